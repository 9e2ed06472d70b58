# Sourced by scripts/test.sh and scripts/chaos.sh: everything the tests and the
# chaos run need on a fresh machine, cached so repeat runs are fast.
#   - npm dependencies (when missing or older than package-lock.json)
#   - the TypeScript build in dist/ (a clean one when PREPARE_CLEAN_DIST=1)
#   - the Hazelcast member jar and the Consul agent, in ~/.cache/troupe
# Expects `log` to be defined by the caller; exports TROUPE_HAZELCAST_JAR and TROUPE_CONSUL_BIN.

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm install --no-audit --no-fund >&2
fi

log "building"
if [ "${PREPARE_CLEAN_DIST:-0}" = 1 ]; then rm -rf dist; fi
npx tsc -p .

log "fetching the Hazelcast member jar (cached)"
TROUPE_HAZELCAST_JAR=$(bash scripts/fetch-hazelcast.sh)
export TROUPE_HAZELCAST_JAR
log "fetching the Consul agent (cached)"
TROUPE_CONSUL_BIN=$(bash scripts/fetch-consul.sh)
export TROUPE_CONSUL_BIN
