#!/usr/bin/env bash
# Finds Debian's PostgreSQL server binaries (initdb, pg_ctl, postgres, psql)
# and prints their folder; installs them with apt-get when they are missing.
#
#   scripts/fetch-postgres.sh                              # -> /usr/lib/postgresql/15/bin
#   TROUPE_POSTGRES_BIN=/opt/pg/bin scripts/fetch-postgres.sh   # use those, install nothing
#
# Troupe's tests and `troupe cluster up --durable postgres` run their own
# server from these binaries (initdb into a folder of theirs, a free loopback
# port), never the cluster Debian's package starts on 5432.
# Installing needs root and apt-get (Debian, Ubuntu); concurrent callers are
# serialised with flock. Progress goes to stderr; stdout carries only the folder.
set -euo pipefail

if [ -n "${TROUPE_POSTGRES_BIN:-}" ]; then
  [ -x "$TROUPE_POSTGRES_BIN/initdb" ] && [ -x "$TROUPE_POSTGRES_BIN/pg_ctl" ] || {
    echo "fetch-postgres: TROUPE_POSTGRES_BIN=$TROUPE_POSTGRES_BIN has no initdb and pg_ctl" >&2; exit 1; }
  echo "$TROUPE_POSTGRES_BIN"
  exit 0
fi

# The newest major version installed under Debian's layout.
find_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n | tail -1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then echo "$d"; fi
}

# The package also creates and starts a cluster on 5432; Troupe never uses it.
# shellcheck source=lib/apt-package.sh
source "$(dirname "$0")/lib/apt-package.sh"
apt_package_path fetch-postgres postgresql "TROUPE_POSTGRES_BIN to its bin folder" "/usr/lib/postgresql/*/bin/initdb"
