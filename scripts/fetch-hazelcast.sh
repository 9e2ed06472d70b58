#!/usr/bin/env bash
# Fetches the open-source Hazelcast member jar into Troupe's cache and prints its path.
#
#   scripts/fetch-hazelcast.sh            # prints e.g. ~/.cache/troupe/hazelcast/hazelcast-5.7.0.jar
#   HAZELCAST_VERSION=5.6.0 scripts/fetch-hazelcast.sh
#
# Idempotent: when the jar is already cached (and its SHA-1 matches the one
# recorded at download) it prints the path without starting Maven, so callers
# can run it before every member launch.
#
# Why 5.7.0: the newest 5.x on Maven Central (checked 2026-11); it runs on
# Java 17 (its manifest says Build-Jdk-Spec 17) and the hazelcast-client 5.6
# Node client talks to it. The CP subsystem (IAtomicLong, FencedLock) is
# Enterprise-only there, and the Node client refuses it outright, so Troupe's
# engine uses only IMap and its key locks (see grid/hazelcast/hazelcast-grid.ts).
#
# Progress goes to stderr; stdout carries only the jar path.
set -euo pipefail

version="${HAZELCAST_VERSION:-5.7.0}"
cache_dir="${TROUPE_CACHE:-${HOME}/.cache/troupe}/hazelcast"
jar="${cache_dir}/hazelcast-${version}.jar"
sum_file="${jar}.sha1"

sha1_of() { sha1sum "$1" | cut -d' ' -f1; }

if [[ -s "$jar" && -s "$sum_file" && "$(sha1_of "$jar")" == "$(cat "$sum_file")" ]]; then
  echo "$jar"
  exit 0
fi

mkdir -p "$cache_dir"
# Download into a private temp dir and move into place at the end, so an
# interrupted fetch never leaves a half-written jar that looks cached.
tmp="$(mktemp -d "${cache_dir}/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "fetch-hazelcast: fetching com.hazelcast:hazelcast:${version} ..." >&2
if command -v mvn >/dev/null 2>&1; then
  # -C: fail on checksum mismatch instead of warning. Maven keeps its own copy
  # in ~/.m2, so a second cache miss (e.g. after clearing TROUPE_CACHE) is local.
  mvn -B -C org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
    -Dartifact="com.hazelcast:hazelcast:${version}:jar" \
    -DoutputDirectory="$tmp" -Dmdep.overWriteReleases=true >"$tmp/mvn.log" 2>&1 || {
    cat "$tmp/mvn.log" >&2
    echo "fetch-hazelcast: Maven could not fetch com.hazelcast:hazelcast:${version}" >&2
    exit 1
  }
else
  # No Maven: take the jar straight from Maven Central and check its published SHA-1.
  base="https://repo1.maven.org/maven2/com/hazelcast/hazelcast/${version}/hazelcast-${version}.jar"
  curl -fsSL --retry 2 --max-time 300 -o "$tmp/hazelcast-${version}.jar" "$base"
  expected="$(curl -fsSL --max-time 30 "${base}.sha1" | cut -c1-40)"
  actual="$(sha1_of "$tmp/hazelcast-${version}.jar")"
  if [[ "$expected" != "$actual" ]]; then
    echo "fetch-hazelcast: checksum mismatch for ${base} (expected ${expected}, got ${actual})" >&2
    exit 1
  fi
fi

if [[ ! -s "$tmp/hazelcast-${version}.jar" ]]; then
  echo "fetch-hazelcast: download finished but no jar found in $tmp" >&2
  exit 1
fi
sha1_of "$tmp/hazelcast-${version}.jar" >"$tmp/sum"
mv -f "$tmp/hazelcast-${version}.jar" "$jar"
mv -f "$tmp/sum" "$sum_file"
echo "fetch-hazelcast: cached $jar" >&2
echo "$jar"
