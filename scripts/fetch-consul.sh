#!/usr/bin/env bash
# Puts a real Consul agent binary (1.8.7, Debian bullseye's package) in Troupe's cache
# and prints its path on stdout (progress goes to stderr).
#
#   scripts/fetch-consul.sh            # -> ${TROUPE_CACHE:-$HOME/.cache/troupe}/consul/consul
#   TROUPE_CONSUL_BIN=/usr/bin/consul scripts/fetch-consul.sh   # use that binary, fetch nothing
#
# Idempotent and fast when cached (one `consul version`). Uses the Debian mirror this
# machine's apt is already configured with and a private apt state in a temp folder, so
# the system's apt configuration is untouched. Concurrent callers (parallel test files)
# are serialised with flock and the binary is moved into place atomically.
set -euo pipefail
# shellcheck source=lib/cache-lock.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/cache-lock.sh"

if [ -n "${TROUPE_CONSUL_BIN:-}" ]; then
  "$TROUPE_CONSUL_BIN" version >/dev/null 2>&1 || { echo "fetch-consul: TROUPE_CONSUL_BIN=$TROUPE_CONSUL_BIN does not run" >&2; exit 1; }
  echo "$TROUPE_CONSUL_BIN"
  exit 0
fi

dir="${TROUPE_CACHE:-$HOME/.cache/troupe}/consul"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
bin="$dir/consul"

runs() { [ -x "$bin" ] && "$bin" version >/dev/null 2>&1; }
if runs; then echo "$bin"; exit 0; fi

take_cache_lock fetch-consul "$dir/.lock" 300 || exit 1
# Another caller may have finished the download while we waited for the lock.
if runs; then echo "$bin"; exit 0; fi

# The main Debian archive URI from this machine's own apt sources (deb822 or one-line style).
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {for (i=2;i<=NF;i++) if ($i !~ /security/) {print $i; exit}}')
if [ -z "$mirror" ]; then
  mirror=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | awk '{for (i=2;i<=NF;i++) if ($i ~ /:\/\//) {print $i; exit}}' | head -1)
fi
[ -n "$mirror" ] || { echo "fetch-consul: no Debian mirror found in /etc/apt sources" >&2; exit 1; }

echo "fetch-consul: downloading consul (Debian bullseye) from $mirror" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bullseye main" >"$work/sources.list"
opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o APT::Sandbox::User=root)
apt-get "${opts[@]}" -qq update >&2
(cd "$work" && apt-get "${opts[@]}" -qq download consul >&2)
dpkg -x "$work"/consul_*.deb "$work/x"
install -m 0755 "$work/x/usr/bin/consul" "$dir/consul.tmp.$$"
mv -f "$dir/consul.tmp.$$" "$bin"
"$bin" version | head -1 >&2
echo "$bin"
