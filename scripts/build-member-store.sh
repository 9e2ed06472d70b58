#!/usr/bin/env bash
# Builds Troupe's Java code for Hazelcast members (grid/hazelcast/member/store:
# the PostgreSQL MapStore, the split-brain merge policy, the durability report)
# into one jar in Troupe's cache, and prints its path.
#
#   scripts/build-member-store.sh   # -> ~/.cache/troupe/store/troupe-member-store-<hash>.jar
#
# The jar is named by a hash of the module's sources and pom.xml, so it is
# built once per change and otherwise found at once (no Maven start). Maven
# fetches the PostgreSQL JDBC driver and the build plugins from Maven Central
# the first time (kept in ~/.m2). Concurrent callers (parallel test files) are
# serialised with flock; the jar is moved into place atomically.
# Progress goes to stderr; stdout carries only the jar path.
set -euo pipefail
# shellcheck source=lib/cache-lock.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cache-lock.sh"
cd "$(dirname "$0")/.."

module=grid/hazelcast/member/store
hash=$( (cat "$module/pom.xml"; find "$module/src" -type f -name '*.java' | LC_ALL=C sort | xargs cat) | sha1sum | cut -c1-12)
dir="${TROUPE_CACHE:-$HOME/.cache/troupe}/store"
jar="$dir/troupe-member-store-$hash.jar"
if [[ -s "$jar" ]]; then echo "$jar"; exit 0; fi

take_cache_lock build-member-store "$dir/.lock" 600 || exit 1
if [[ -s "$jar" ]]; then echo "$jar"; exit 0; fi
command -v mvn >/dev/null 2>&1 || { echo "build-member-store: Maven (mvn) is needed to build $module" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "build-member-store: building $module (mvn package) ..." >&2
if ! mvn -B -q -f "$module/pom.xml" package "-Dtroupe.build.dir=$work/target" >"$work/mvn.log" 2>&1; then
  tail -40 "$work/mvn.log" >&2
  echo "build-member-store: the Maven build of $module failed" >&2
  exit 1
fi
cp "$work/target/troupe-member-store.jar" "$jar.tmp.$$"
mv -f "$jar.tmp.$$" "$jar"
# Older builds of other source versions stay until the cache is cleared; they are small.
echo "build-member-store: cached $jar" >&2
echo "$jar"
