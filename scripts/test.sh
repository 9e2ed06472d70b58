#!/usr/bin/env bash
# npm test: everything the tests need, on a fresh machine, then the tests.
#   - builds TypeScript into dist/
#   - fetches the Hazelcast member jar (Maven Central) and the Consul agent
#     binary (Debian) into ~/.cache/troupe, once; later runs reuse the cache
#   - runs every dist/test/*.test.js with node's test runner; the tests start
#     and stop their own Hazelcast members and Consul agents on free loopback ports
# Pass file names to run only those: npm test -- dist/test/turns.test.js
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
log "running ${#files[@]} test files"
# One file at a time: on a 2-core machine the JVM, agent and multi-node fixtures
# would otherwise starve each other, and several tests bound latencies.
exec node --test --test-concurrency=1 --test-timeout=300000 "${files[@]}"
