/**
 * Every setting of a node, in one table: the one source of truth for the
 * flag parser, the environment variables, the embedding API's typed
 * settings (`startNode`), `troupe start --help` and the README's
 * configuration table (a test compares them).
 */
import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import { GRID_ENGINES, type GridEngineName } from '../../grid/index.js';
import { DEFAULT_LIMITS } from '../../protocol/limits.js';
import { bool, integer, list, oneOf, optionalText, origins, text, type SettingKind } from './kinds.js';

/** One setting: its flag, its environment variable, its kind, its default. */
export interface Setting<T> {
  readonly flag: string;
  readonly env: string;
  readonly kind: SettingKind<T>;
  readonly fallback: () => T;
  /** The default as the table shows it, when the value itself would mislead (generated, per machine, derived). */
  readonly shownDefault?: string;
  /** What it does (Markdown: the README table and `--help` print it). */
  readonly help: string;
}

const cores = Math.max(1, availableParallelism());

const setting = <T>(s: Setting<T>): Setting<T> => s;

export const SETTINGS = {
  nodeId: setting({ flag: '--node-id', env: 'TROUPE_NODE_ID', kind: text, fallback: () => `node-${randomBytes(4).toString('hex')}`, shownDefault: 'generated', help: "this node's id" }),
  host: setting({ flag: '--host', env: 'TROUPE_HOST', kind: text, fallback: () => '127.0.0.1', help: 'address the gateway listens on' }),
  port: setting({ flag: '--port', env: 'TROUPE_PORT', kind: integer(0, 65535), fallback: () => 7070, help: 'gateway port (WebSocket and HTTP); 0 picks a free one' }),
  // Off by default: the HTTP API answers no preflight, so a browser lets only pages of the node's own origin call it.
  allowedOrigins: setting({ flag: '--allowed-origins', env: 'TROUPE_ALLOWED_ORIGINS', kind: origins, fallback: (): readonly string[] => [], help: 'web pages of these origins may call the HTTP API from a browser (CORS: preflight answered, `Access-Control-Allow-Origin` sent); `*` for any. WebSocket connections are not restricted by origin' }),
  actors: setting({ flag: '--actors', env: 'TROUPE_ACTORS', kind: list, fallback: (): readonly string[] => [], help: 'module paths exporting actor classes (`.js`, or `.ts`)' }),
  grid: setting({ flag: '--grid', env: 'TROUPE_GRID', kind: oneOf(GRID_ENGINES), fallback: (): GridEngineName => 'embedded', help: 'grid engine' }),
  hazelcastCluster: setting({ flag: '--hazelcast-cluster', env: 'TROUPE_HAZELCAST_CLUSTER', kind: text, fallback: () => 'troupe', help: 'Hazelcast cluster name' }),
  hazelcastMembers: setting({ flag: '--hazelcast-members', env: 'TROUPE_HAZELCAST_MEMBERS', kind: list, fallback: (): readonly string[] => ['127.0.0.1:5701'], help: 'Hazelcast member addresses, `host:port,...`' }),
  hazelcastConnectTimeout: setting({ flag: '--hazelcast-connect-timeout', env: 'TROUPE_HAZELCAST_CONNECT_TIMEOUT', kind: integer(100), fallback: () => 5000, help: 'ms to wait for the first connection to the grid' }),
  hazelcastInvocationTimeout: setting({ flag: '--hazelcast-invocation-timeout', env: 'TROUPE_HAZELCAST_INVOCATION_TIMEOUT', kind: integer(100), fallback: () => 3000, help: 'ms before a grid operation fails' }),
  threads: setting({ flag: '--threads', env: 'TROUPE_THREADS', kind: integer(1, 256), fallback: () => cores, shownDefault: 'CPU count', help: 'maximum worker threads per pool' }),
  minThreads: setting({ flag: '--min-threads', env: 'TROUPE_MIN_THREADS', kind: integer(1, 256), fallback: () => 1, help: 'minimum worker threads per pool (the pool grows and shrinks between the two with load)' }),
  maxFrame: setting({ flag: '--max-frame', env: 'TROUPE_MAX_FRAME', kind: integer(1024, 512 * 1024 * 1024), fallback: () => 16 * 1024 * 1024, help: 'largest accepted frame or HTTP body, bytes' }),
  maxBatch: setting({ flag: '--max-batch', env: 'TROUPE_MAX_BATCH', kind: integer(1, 1_000_000), fallback: () => 10_000, help: 'most messages in one frame' }),
  // Capped at 256: everything past the edge (msgpack to the workers, JSON answers) encodes recursively,
  // and on the main thread's stack that ends somewhere past 1300 levels.
  maxDepth: setting({ flag: '--max-depth', env: 'TROUPE_MAX_DEPTH', kind: integer(2, 256), fallback: () => DEFAULT_LIMITS.maxDepth, help: 'deepest nesting of arrays, objects and maps in one message; deeper: `E_BAD_REQUEST` (see [Limits at the edge](#limits-at-the-edge))' }),
  maxKey: setting({ flag: '--max-key', env: 'TROUPE_MAX_KEY', kind: integer(1, 65_536), fallback: () => DEFAULT_LIMITS.maxKey, help: 'longest actor type, method, actor key, idempotency key, topic or string id, characters; longer: `E_BAD_REQUEST`' }),
  // -1 stands for "unset": the frame bounds them already (every element and every byte of a string is in the frame).
  maxString: setting({ flag: '--max-string', env: 'TROUPE_MAX_STRING', kind: integer(1, 512 * 1024 * 1024), fallback: () => -1, shownDefault: '`--max-frame`', help: 'longest string or binary value (or object key) in a message: bytes in msgpack, characters in JSON; longer: `E_TOO_LARGE`' }),
  maxCollection: setting({ flag: '--max-collection', env: 'TROUPE_MAX_COLLECTION', kind: integer(1, 512 * 1024 * 1024), fallback: () => -1, shownDefault: '`--max-frame`', help: 'most elements of one array, or entries of one object or map, in a message; more: `E_TOO_LARGE`' }),
  maxInflight: setting({ flag: '--max-inflight', env: 'TROUPE_MAX_INFLIGHT', kind: integer(1, 10_000_000), fallback: () => 10_000, help: 'most unanswered calls per connection' }),
  maxConnections: setting({ flag: '--max-connections', env: 'TROUPE_MAX_CONNECTIONS', kind: integer(1, 10_000_000), fallback: () => 10_000, help: 'most client connections' }),
  rateLimit: setting({ flag: '--rate-limit', env: 'TROUPE_RATE_LIMIT', kind: integer(0, 100_000_000), fallback: () => 0, help: "calls per second per connection, bursts up to one second's worth; over it, calls get `E_OVERLOADED` (0: no limit)" }),
  bulkheads: setting({ flag: '--bulkheads', env: 'TROUPE_BULKHEADS', kind: optionalText, fallback: () => '', help: 'actor types on worker pools and backlogs of their own: `name:TypeA,TypeB[:threads=N][:min-threads=N][:queue=N];...`; other types share the `default` pool (`--threads`, `--max-queued`)' }),
  stream: setting({ flag: '--stream', env: 'TROUPE_STREAM', kind: optionalText, fallback: () => '', help: 'records of a Kafka topic become calls: `kafka:BROKERS:TOPIC:Type.method` (BROKERS `host:port,...`; several streams `;`-separated); each record is a call to actor `Type` keyed by the record key, `method(value as JSON)`, exactly once (see [Streams from Kafka](#streams-from-kafka))' }),
  maxQueued: setting({ flag: '--max-queued', env: 'TROUPE_MAX_QUEUED', kind: integer(1, 100_000_000), fallback: () => 100_000, help: 'most turns waiting, plus tells not yet delivered from outboxes, node-wide (per bulkhead with `queue=`) before `E_OVERLOADED`' }),
  callTimeout: setting({ flag: '--call-timeout', env: 'TROUPE_CALL_TIMEOUT', kind: integer(1, 3_600_000), fallback: () => 10_000, help: 'default call deadline, ms' }),
  turnsPerBatch: setting({ flag: '--turns-per-batch', env: 'TROUPE_TURNS_PER_BATCH', kind: integer(1, 100_000), fallback: () => 256, help: 'most turns of one actor run in one pool task (still one at a time)' }),
  commitWindow: setting({ flag: '--commit-window', env: 'TROUPE_COMMIT_WINDOW', kind: integer(0, 1000), fallback: () => 0, help: 'ms to gather grid writes into one group commit (0: what one event-loop callback produced)' }),
  sagaScan: setting({ flag: '--saga-scan', env: 'TROUPE_SAGA_SCAN', kind: integer(100, 3_600_000), fallback: () => 2000, help: 'how often to look for unfinished sagas to resume, ms' }),
  sagaStale: setting({ flag: '--saga-stale', env: 'TROUPE_SAGA_STALE', kind: integer(100, 86_400_000), fallback: () => 15_000, help: "a saga journal entry untouched this long is resumed on the owner's node, ms" }),
  idemMax: setting({ flag: '--idem-max', env: 'TROUPE_IDEM_MAX', kind: integer(0, 100_000), fallback: () => 64, help: 'idempotency results kept per actor' }),
  idemMinAge: setting({ flag: '--idem-min-age', env: 'TROUPE_IDEM_MIN_AGE', kind: integer(0), fallback: () => 60_000, help: 'idempotency results younger than this are kept past `--idem-max` (up to 16x it), so a saga resume or a retry within it is still recognised, ms' }),
  idemTtl: setting({ flag: '--idem-ttl', env: 'TROUPE_IDEM_TTL', kind: integer(0), fallback: () => 24 * 3600 * 1000, help: 'how long idempotency results are kept, ms' }),
  idle: setting({ flag: '--idle', env: 'TROUPE_IDLE', kind: integer(0), fallback: () => 60_000, help: 'ms before an idle actor is forgotten (its state stays in the grid)' }),
  maxActivations: setting({ flag: '--max-activations', env: 'TROUPE_MAX_ACTIVATIONS', kind: integer(1, 100_000_000), fallback: () => 100_000, help: 'most live actors per bulkhead; past it the least recently used idle ones are forgotten (their state stays in the grid), and new ones get `E_OVERLOADED` if none is idle' }),
  maxActivationMb: setting({ flag: '--max-activation-mb', env: 'TROUPE_MAX_ACTIVATION_MB', kind: integer(1, 1_000_000), fallback: () => 256, help: 'most MiB of cached actor records per bulkhead, with the same eviction' }),
  readLease: setting({ flag: '--read-lease', env: 'TROUPE_READ_LEASE', kind: integer(0, 60_000), fallback: () => 1000, help: 'ms a cached actor record is trusted for answers that wrote nothing; past it such an answer waits for the grid to confirm the record (writes are checked by their commit): how stale a read can be while nodes disagree about who owns an actor (shorter than the failover time)' }),
  discovery: setting({ flag: '--discovery', env: 'TROUPE_DISCOVERY', kind: oneOf(['none', 'static', 'consul'] as const), fallback: () => 'none' as 'none' | 'static' | 'consul', help: 'how nodes find each other: `none` (one node), `static` (`--peers`) or `consul`' }),
  consul: setting({ flag: '--consul', env: 'TROUPE_CONSUL', kind: text, fallback: () => 'http://127.0.0.1:8500', help: 'Consul agent URL' }),
  consulTtl: setting({ flag: '--consul-ttl', env: 'TROUPE_CONSUL_TTL', kind: integer(1000, 3_600_000), fallback: () => 2000, help: "TTL of the node's Consul check, ms" }),
  peers: setting({ flag: '--peers', env: 'TROUPE_PEERS', kind: optionalText, fallback: () => '', help: 'static member list: `[id@]host:port/linkPort,...`' }),
  // -1 stands for "port + 1".
  linkPort: setting({ flag: '--link-port', env: 'TROUPE_LINK_PORT', kind: integer(0, 65535), fallback: () => -1, shownDefault: 'port + 1', help: 'node-to-node port; 0 picks a free one' }),
  advertise: setting({ flag: '--advertise', env: 'TROUPE_ADVERTISE', kind: optionalText, fallback: () => '', shownDefault: '`--host`', help: 'address other nodes dial' }),
  zone: setting({ flag: '--zone', env: 'TROUPE_ZONE', kind: optionalText, fallback: () => '', help: 'zone label, published in discovery' }),
  insecureCluster: setting({ flag: '--insecure-cluster', env: 'TROUPE_INSECURE_CLUSTER', kind: bool, fallback: () => false, help: 'allow cluster mode without `TROUPE_CLUSTER_SECRET` (links unauthenticated)' }),
  // Empty: tracing off, and the OpenTelemetry SDK is never loaded.
  otelEndpoint: setting({ flag: '--otel-endpoint', env: 'TROUPE_OTEL_ENDPOINT', kind: optionalText, fallback: () => '', help: 'OTLP/HTTP traces URL (e.g. `http://127.0.0.1:4318/v1/traces`): spans for gateway, forward, turn and commit are exported there with service name `troupe`; W3C `traceparent` is taken from clients and carried between actors and nodes either way (see [Traces](#traces)). Unset: nothing is recorded' }),
  logLevel: setting({ flag: '--log-level', env: 'TROUPE_LOG_LEVEL', kind: oneOf(['debug', 'info', 'warn', 'error', 'silent'] as const), fallback: () => 'info' as 'debug' | 'info' | 'warn' | 'error' | 'silent', help: 'log level' }),
};

/** A secret: environment only on the command line (flags show in `ps`), a typed setting when embedding. Never logged. */
export interface Secret {
  readonly env: string;
  readonly minLength: number;
  readonly help: string;
}

export const SECRETS = {
  authSecret: {
    env: 'TROUPE_AUTH_SECRET',
    minLength: 32,
    help: 'when set, clients must present an HS256 JWT signed with it and carrying `exp`: `Authorization: Bearer <jwt>`, or `?token=<jwt>` on the WebSocket URL; its `sub` is `this.caller`',
  },
  clusterSecret: {
    env: 'TROUPE_CLUSTER_SECRET',
    minLength: 16,
    help: 'shared secret authenticating node-to-node links; required in cluster mode',
  },
} satisfies Record<string, Secret>;

export type SettingName = keyof typeof SETTINGS;
export type SecretName = keyof typeof SECRETS;

/** A setting's typed value. */
export type SettingValue<K extends SettingName> = ReturnType<(typeof SETTINGS)[K]['kind']['check']>;

/** Every setting resolved (given, from the environment, or its default). */
export type SettingValues = { readonly [K in SettingName]: SettingValue<K> };
