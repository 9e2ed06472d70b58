#!/usr/bin/env bash
# npm test: everything the tests need, on a fresh machine, then the tests, on Node 20 and on Node 22.
#   - builds TypeScript into dist/
#   - fetches the Hazelcast member jar (Maven Central), the Consul agent binary
#     (Debian) and the Node.js binaries (npm registry) into ~/.cache/troupe, once;
#     later runs reuse the cache
#   - runs every dist/test/*.test.js with node's test runner, once per Node
#     version (one pass after the other; a failure in either fails the run); the
#     tests start and stop their own Hazelcast members and Consul agents on free
#     loopback ports
# Pass file names to run only those: npm test -- dist/test/turns.test.js
# TROUPE_TEST_NODES picks the passes (default "20 22"): TROUPE_TEST_NODES=22 npm test -- ...
# Each pass ends with the names of the tests that failed (stderr); the run ends
# with one line per pass (Node version, result, time) and exits non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[test] $*" >&2; }

PREPARE_CLEAN_DIST=1
# shellcheck source=prepare.sh
source scripts/prepare.sh

if [ "$#" -gt 0 ]; then
  files=("$@")
else
  files=(dist/test/*.test.js)
fi

# The node on PATH serves its own major version; the others come from the cache.
node_for() {
  local major="$1" own
  own=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$own" = "$major" ]; then command -v node; else bash scripts/fetch-node.sh "$major"; fi
}

# Tests that need a Node other than the one running them (a .ts actor on Node 20 and on 22) find both here.
TROUPE_TEST_NODE_20=$(node_for 20)
TROUPE_TEST_NODE_22=$(node_for 22)
export TROUPE_TEST_NODE_20 TROUPE_TEST_NODE_22
log "fetching Node 24 (cached), for the test that a node refuses where no uWebSockets.js build loads"
TROUPE_NODE_24=$(bash scripts/fetch-node.sh 24) || { log "could not fetch Node 24: that test will skip"; TROUPE_NODE_24=""; }
export TROUPE_NODE_24

# One file at a time: on a 2-core machine the JVM, agent and multi-node fixtures
# would otherwise starve each other, and several tests bound latencies.
# Two reporters: the usual one (spec on a terminal, TAP otherwise, as node picks by default) on
# stdout, and at the end, on stderr, the list of failed tests by file and name
# (test/reporters/failed-tests.ts). A pass's result is node's exit code: 0 only if every test passed.
main_reporter=tap
if [ -t 1 ]; then main_reporter=spec; fi

summary=()
failed=0
for major in ${TROUPE_TEST_NODES:-20 22}; do
  node_bin=$(node_for "$major")
  version=$("$node_bin" --version)
  # The gateway refuses to start without the native uWebSockets.js build; say so before a
  # whole pass fails on it (the suite's own test checks it again from inside).
  if ! "$node_bin" --input-type=module -e "import { loadNativeUws } from './dist/runtime/gateway/native-uws.js'; loadNativeUws();" >&2; then
    log "Node $version: the native uWebSockets.js build does not load; not running this pass"
    summary+=("Node $version: FAILED (no native uWebSockets.js)")
    failed=1
    continue
  fi
  log "pass on Node $version ($node_bin, native uWebSockets.js loaded): ${#files[@]} test files"
  started=$SECONDS
  # PATH first: anything a test runs as plain `node` (npm, scripts) is this version too.
  status=0
  PATH="$(dirname "$node_bin"):$PATH" "$node_bin" --test --test-concurrency=1 --test-timeout=300000 \
    --test-reporter="$main_reporter" --test-reporter-destination=stdout \
    --test-reporter=./dist/test/reporters/failed-tests.js --test-reporter-destination=stderr \
    "${files[@]}" || status=$?
  took=$((SECONDS - started))
  result=passed
  if [ "$status" != 0 ]; then result="FAILED (exit $status)"; failed=1; fi
  summary+=("Node $version: $result in $((took / 60))m$(printf '%02d' $((took % 60)))s")
done

for line in "${summary[@]}"; do log "$line"; done
exit "$failed"
