# Sourced by the fetch and build scripts: one caller at a time per cache entry.
#   take_cache_lock TOOL LOCKFILE SECONDS
# opens LOCKFILE on fd 9 and holds an exclusive flock on it for the rest of the
# process (where flock exists; without it callers are not serialised). Returns 1
# with one line on stderr when another caller held it for SECONDS. Callers check
# their cache again once they hold it: the one they waited for may have filled it.
take_cache_lock() {
  local tool="$1" lock="$2" seconds="$3"
  mkdir -p "$(dirname "$lock")"
  exec 9>"$lock"
  if command -v flock >/dev/null 2>&1; then
    flock -w "$seconds" 9 || { echo "$tool: timed out waiting for $lock" >&2; return 1; }
  fi
}
