# Sourced by scripts/test.sh and scripts/chaos.sh: everything the tests and the
# chaos run need on a fresh machine, cached so repeat runs are fast.
#   - npm dependencies (when missing or older than package-lock.json)
#   - the TypeScript build in dist/ (a clean one when PREPARE_CLEAN_DIST=1)
#   - the Hazelcast member jar, Troupe's member store jar (built from
#     grid/hazelcast/member/store with Maven), the Kafka broker's jars (Maven)
#     and the Consul agent, in ~/.cache/troupe
#   - the browser build of the SDK (dist/client/browser.bundle.js, esbuild)
#   - PostgreSQL's server binaries (apt-get, only when missing), for the durable-tier tests
#   - Chromium (apt-get, only when missing), for the browser-client test
# Expects `log` to be defined by the caller; exports TROUPE_HAZELCAST_JAR,
# TROUPE_MEMBER_STORE_JAR, TROUPE_KAFKA_LIBS, TROUPE_CONSUL_BIN, TROUPE_POSTGRES_BIN and TROUPE_CHROMIUM.

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm install --no-audit --no-fund >&2
fi

log "building"
if [ "${PREPARE_CLEAN_DIST:-0}" = 1 ]; then rm -rf dist; fi
npx tsc -p .
log "bundling the browser SDK"
node scripts/build-browser-client.mjs

log "fetching the Hazelcast member jar (cached)"
TROUPE_HAZELCAST_JAR=$(bash scripts/fetch-hazelcast.sh)
export TROUPE_HAZELCAST_JAR
log "building the members' store jar (cached per source change)"
TROUPE_MEMBER_STORE_JAR=$(bash scripts/build-member-store.sh)
export TROUPE_MEMBER_STORE_JAR
log "fetching the Kafka broker's jars (cached)"
TROUPE_KAFKA_LIBS=$(bash scripts/fetch-kafka.sh)
export TROUPE_KAFKA_LIBS
log "finding PostgreSQL (installed with apt-get when missing)"
TROUPE_POSTGRES_BIN=$(bash scripts/fetch-postgres.sh)
export TROUPE_POSTGRES_BIN
log "fetching the Consul agent (cached)"
TROUPE_CONSUL_BIN=$(bash scripts/fetch-consul.sh)
export TROUPE_CONSUL_BIN
log "finding Chromium (installed with apt-get when missing)"
TROUPE_CHROMIUM=$(bash scripts/fetch-chromium.sh)
export TROUPE_CHROMIUM
