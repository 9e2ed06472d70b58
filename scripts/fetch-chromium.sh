#!/usr/bin/env bash
# Finds a Chromium for the browser-client test and prints its path; installs
# Debian's `chromium` with apt-get when it is missing.
#
#   scripts/fetch-chromium.sh                               # -> /usr/bin/chromium
#   TROUPE_CHROMIUM=/opt/chrome/chrome scripts/fetch-chromium.sh   # use that one, install nothing
#
# The test drives it with playwright-core (no browser download of its own),
# headless, with a fresh profile, against a node on 127.0.0.1.
# Installing needs root and apt-get (Debian, Ubuntu); concurrent callers are
# serialised with flock. Progress goes to stderr; stdout carries only the path.
set -euo pipefail

if [ -n "${TROUPE_CHROMIUM:-}" ]; then
  [ -x "$TROUPE_CHROMIUM" ] || { echo "fetch-chromium: TROUPE_CHROMIUM=$TROUPE_CHROMIUM is not an executable" >&2; exit 1; }
  echo "$TROUPE_CHROMIUM"
  exit 0
fi

find_bin() {
  local b
  for b in /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -x "$b" ]; then echo "$b"; return; fi
  done
}

# shellcheck source=lib/apt-package.sh
source "$(dirname "$0")/lib/apt-package.sh"
apt_package_path fetch-chromium chromium "TROUPE_CHROMIUM to its binary" "chromium binary"
