# shellcheck shell=bash
# Finds a system package's binary, or installs the package with apt-get (as
# root, once, serialised by a lock in Troupe's cache), and prints the path.
# Used by fetch-postgres.sh and fetch-chromium.sh; the caller defines
# find_bin (prints the path when installed, nothing otherwise).
#
#   apt_package_path <tool name> <apt package> <env var to point at an install> <what find_bin looks for>
# shellcheck source=cache-lock.sh
source "$(dirname "${BASH_SOURCE[0]}")/cache-lock.sh"

apt_package_path() {
  local tool=$1 package=$2 env_var=$3 what=$4 bin
  bin=$(find_bin)
  if [ -n "$bin" ]; then echo "$bin"; return 0; fi

  [ "$(id -u)" = 0 ] || { echo "$tool: $package is not installed and installing it needs root (apt-get install $package), or set $env_var" >&2; return 1; }
  command -v apt-get >/dev/null 2>&1 || { echo "$tool: no apt-get here; install $package and set $env_var" >&2; return 1; }

  take_cache_lock "$tool" "${TROUPE_CACHE:-$HOME/.cache/troupe}/$package.lock" 900 || return 1
  # Another caller may have installed it while this one waited for the lock.
  bin=$(find_bin)
  if [ -n "$bin" ]; then echo "$bin"; return 0; fi

  echo "$tool: installing $package (apt-get install $package) ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "$package" >&2
  bin=$(find_bin)
  [ -n "$bin" ] || { echo "$tool: apt-get finished but no $what appeared" >&2; return 1; }
  echo "$tool: installed $bin" >&2
  echo "$bin"
}
