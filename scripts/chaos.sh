#!/usr/bin/env bash
# npm run chaos: bank transfers (sagas), relays, reminders and counters (adds
# and reads) on a 3-node cluster (real Consul, real Hazelcast) while faults
# hit it; then checks that no money was created or lost, every acknowledged
# update is present exactly once, each counter's history is one writer's, no
# read missed an update acknowledged before it began, every reminder fired
# once, and no saga was left unfinished. Prints a summary; exit 0 without
# violations, 1 with any, 2 if the run could not be carried out.
#   - builds TypeScript into dist/
#   - fetches the Hazelcast member jar and the Consul agent (cached in ~/.cache/troupe)
#   - runs dist/test/chaos/main.js
# Faults (--faults, default kill,restart): kill, pause, partition, member, agent, restart.
# partition and agent put each node in a network namespace of its own with its
# own Consul client agent: they need root and iproute2.
# Duration: CHAOS_SECONDS (default 60) or --seconds N. Other options:
#   npm run chaos -- --faults kill,pause,partition,member,agent,restart --seconds 120 --seed 42 \
#     --accounts 20 --closed-accounts 2 --workers 8 --counter-workers 4 --counter-keys 4 --members 2 \
#     --max-transfers 20000 --logs DIR --node-flags "--read-lease 1000"
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[chaos] $*" >&2; }

# shellcheck source=prepare.sh
source scripts/prepare.sh

exec node dist/test/chaos/main.js "$@"
