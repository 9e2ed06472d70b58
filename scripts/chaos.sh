#!/usr/bin/env bash
# npm run chaos: Transfer sagas on a 3-node cluster (real Consul agent, real
# Hazelcast member) while nodes are killed with SIGKILL and restarted; then
# checks that no money was created or lost, every completed transfer applied
# once, every failed one compensated, and no saga left unfinished.
#   - builds TypeScript into dist/
#   - fetches the Hazelcast member jar and the Consul agent (cached in ~/.cache/troupe)
#   - runs dist/test/chaos/main.js; exit code 0 only without violations
# Duration: CHAOS_SECONDS (default 60) or --seconds N. Other options:
#   npm run chaos -- --seconds 120 --seed 42 --accounts 20 --closed-accounts 2 --workers 8 --max-transfers 20000 --logs DIR \
#     --node-flags "--idem-max 10000"
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[chaos] $*" >&2; }

# shellcheck source=prepare.sh
source scripts/prepare.sh

exec node dist/test/chaos/main.js "$@"
