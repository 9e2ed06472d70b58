import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import { GRID_ENGINES, type GridConfig, type GridEngineName } from '../grid/index.js';
import { BulkheadSpecError, parseBulkheads, type BulkheadSpec } from './bulkheads.js';

/**
 * A node's settings, parsed and validated once at start-up (flags win over
 * environment variables, which win over defaults) into a frozen object. A bad
 * value stops the node with one line naming the setting.
 */
export interface NodeConfig {
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
  readonly actors: readonly string[];
  readonly grid: GridConfig;
  /** Worker threads per pool: grows from min to max with load. */
  readonly minThreads: number;
  readonly maxThreads: number;
  readonly maxFrame: number;
  readonly maxBatch: number;
  readonly maxInflight: number;
  readonly maxConnections: number;
  /** Calls per second per connection; 0 means unlimited. */
  readonly rateLimit: number;
  /** Turns waiting in mailboxes node-wide before new calls get E_OVERLOADED. */
  readonly maxQueued: number;
  /** Groups of actor types with pools and backlogs of their own; the rest share `default`. */
  readonly bulkheads: readonly BulkheadSpec[];
  readonly callTimeoutMs: number;
  /** Most turns one actor runs in one pool task (they still run one at a time). */
  readonly turnsPerActorBatch: number;
  /** Window for group commit, ms. */
  readonly commitWindowMs: number;
  /** Idempotency results kept per actor: count and age. */
  readonly idemMax: number;
  readonly idemTtlMs: number;
  readonly idemMinAgeMs: number;
  /** Idle activations are forgotten after this long (their state is in the grid). */
  readonly idleMs: number;
  readonly sagaScanMs: number;
  readonly sagaStaleMs: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  readonly cluster: ClusterConfig;
  /** From TROUPE_AUTH_SECRET only: when set, clients must present an HS256 JWT signed with it. Never logged. */
  readonly authSecret: string | null;
}

/** How this node joins others. `discovery: 'none'` is a single node owning every shard. */
export interface ClusterConfig {
  readonly discovery: 'none' | 'static' | 'consul';
  readonly consulUrl: string;
  readonly consulTtlMs: number;
  readonly peers: string;
  /** -1: gateway port + 1. */
  readonly linkPort: number;
  readonly advertise: string;
  readonly zone: string;
  /** From TROUPE_CLUSTER_SECRET only (never a flag: flags show in `ps`). Never logged. */
  readonly secret: string | null;
  readonly insecure: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** One setting: its flag, its env variable, how to parse it, its default. */
interface Setting<T> {
  readonly flag: string;
  readonly env: string;
  readonly parse: (raw: string, name: string) => T;
  readonly fallback: () => T;
  readonly help: string;
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => (raw: string, name: string): number => {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got '${raw}'`);
  return v;
};
const str = (raw: string, name: string): string => {
  if (raw.length === 0) throw new ConfigError(`${name} must not be empty`);
  return raw;
};
const list = (raw: string): string[] => raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
const oneOf = <T extends string>(values: readonly T[]) => (raw: string, name: string): T => {
  if (!(values as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${values.join(', ')}, got '${raw}'`);
  return raw as T;
};

const cores = Math.max(1, availableParallelism());

export const SETTINGS = {
  nodeId: { flag: '--node-id', env: 'TROUPE_NODE_ID', parse: str, fallback: () => `node-${randomBytes(4).toString('hex')}`, help: 'this node\'s id (default: generated)' },
  host: { flag: '--host', env: 'TROUPE_HOST', parse: str, fallback: () => '127.0.0.1', help: 'address the gateway listens on' },
  port: { flag: '--port', env: 'TROUPE_PORT', parse: int(0, 65535), fallback: () => 7070, help: 'gateway port (WebSocket and HTTP); 0 picks a free one' },
  actors: { flag: '--actors', env: 'TROUPE_ACTORS', parse: (r: string) => list(r), fallback: () => [] as string[], help: 'comma-separated module paths exporting actor classes (.js, or .ts with tsx)' },
  grid: { flag: '--grid', env: 'TROUPE_GRID', parse: oneOf(GRID_ENGINES), fallback: (): GridEngineName => 'embedded', help: 'grid engine: embedded or hazelcast' },
  hazelcastCluster: { flag: '--hazelcast-cluster', env: 'TROUPE_HAZELCAST_CLUSTER', parse: str, fallback: () => 'troupe', help: 'Hazelcast cluster name' },
  hazelcastMembers: { flag: '--hazelcast-members', env: 'TROUPE_HAZELCAST_MEMBERS', parse: (r: string) => list(r), fallback: () => ['127.0.0.1:5701'], help: 'Hazelcast member addresses host:port,...' },
  hazelcastConnectTimeout: { flag: '--hazelcast-connect-timeout', env: 'TROUPE_HAZELCAST_CONNECT_TIMEOUT', parse: int(100), fallback: () => 5000, help: 'ms to wait for the first connection to the grid' },
  hazelcastInvocationTimeout: { flag: '--hazelcast-invocation-timeout', env: 'TROUPE_HAZELCAST_INVOCATION_TIMEOUT', parse: int(100), fallback: () => 3000, help: 'ms before a grid operation fails' },
  threads: { flag: '--threads', env: 'TROUPE_THREADS', parse: int(1, 256), fallback: () => cores, help: 'maximum worker threads per pool' },
  minThreads: { flag: '--min-threads', env: 'TROUPE_MIN_THREADS', parse: int(1, 256), fallback: () => 1, help: 'minimum worker threads per pool' },
  maxFrame: { flag: '--max-frame', env: 'TROUPE_MAX_FRAME', parse: int(1024, 512 * 1024 * 1024), fallback: () => 16 * 1024 * 1024, help: 'largest accepted frame or HTTP body, bytes' },
  maxBatch: { flag: '--max-batch', env: 'TROUPE_MAX_BATCH', parse: int(1, 1_000_000), fallback: () => 10_000, help: 'most messages in one frame' },
  maxInflight: { flag: '--max-inflight', env: 'TROUPE_MAX_INFLIGHT', parse: int(1, 10_000_000), fallback: () => 10_000, help: 'most unanswered calls per connection' },
  maxConnections: { flag: '--max-connections', env: 'TROUPE_MAX_CONNECTIONS', parse: int(1, 10_000_000), fallback: () => 10_000, help: 'most client connections' },
  rateLimit: { flag: '--rate-limit', env: 'TROUPE_RATE_LIMIT', parse: int(0, 100_000_000), fallback: () => 0, help: 'calls per second per connection, bursts up to one second\'s worth (0: no limit)' },
  bulkheads: { flag: '--bulkheads', env: 'TROUPE_BULKHEADS', parse: str, fallback: () => '', help: 'actor types on pools of their own: name:TypeA,TypeB[:threads=N][:min-threads=N][:queue=N];...' },
  maxQueued: { flag: '--max-queued', env: 'TROUPE_MAX_QUEUED', parse: int(1, 100_000_000), fallback: () => 100_000, help: 'most turns waiting node-wide before E_OVERLOADED' },
  callTimeout: { flag: '--call-timeout', env: 'TROUPE_CALL_TIMEOUT', parse: int(1, 3_600_000), fallback: () => 10_000, help: 'default call deadline, ms' },
  turnsPerActorBatch: { flag: '--turns-per-batch', env: 'TROUPE_TURNS_PER_BATCH', parse: int(1, 100_000), fallback: () => 256, help: 'most turns of one actor run in one pool task' },
  commitWindow: { flag: '--commit-window', env: 'TROUPE_COMMIT_WINDOW', parse: int(0, 1000), fallback: () => 0, help: 'ms to gather grid writes into one group commit (0: what one event-loop callback produced)' },
  sagaScan: { flag: '--saga-scan', env: 'TROUPE_SAGA_SCAN', parse: int(100, 3_600_000), fallback: () => 2000, help: 'how often to look for unfinished sagas to resume, ms' },
  sagaStale: { flag: '--saga-stale', env: 'TROUPE_SAGA_STALE', parse: int(100, 86_400_000), fallback: () => 15_000, help: 'a saga journal entry untouched this long is resumed, ms' },
  idemMax: { flag: '--idem-max', env: 'TROUPE_IDEM_MAX', parse: int(0, 100_000), fallback: () => 64, help: 'idempotency results kept per actor' },
  idemMinAge: { flag: '--idem-min-age', env: 'TROUPE_IDEM_MIN_AGE', parse: int(0), fallback: () => 60_000, help: 'idempotency results younger than this are kept past --idem-max (up to 16x it), ms' },
  idemTtl: { flag: '--idem-ttl', env: 'TROUPE_IDEM_TTL', parse: int(0), fallback: () => 24 * 3600 * 1000, help: 'how long idempotency results are kept, ms' },
  idle: { flag: '--idle', env: 'TROUPE_IDLE', parse: int(0), fallback: () => 60_000, help: 'ms before an idle actor is forgotten (its state stays in the grid)' },
  discovery: { flag: '--discovery', env: 'TROUPE_DISCOVERY', parse: oneOf(['none', 'static', 'consul'] as const), fallback: () => 'none' as 'none' | 'static' | 'consul', help: 'how nodes find each other: none (one node), static (--peers) or consul' },
  consul: { flag: '--consul', env: 'TROUPE_CONSUL', parse: str, fallback: () => 'http://127.0.0.1:8500', help: 'Consul agent URL' },
  consulTtl: { flag: '--consul-ttl', env: 'TROUPE_CONSUL_TTL', parse: int(1000, 3_600_000), fallback: () => 2000, help: 'TTL of the node\'s Consul check, ms' },
  peers: { flag: '--peers', env: 'TROUPE_PEERS', parse: str, fallback: () => '', help: 'static member list: [id@]host:port/linkPort,...' },
  linkPort: { flag: '--link-port', env: 'TROUPE_LINK_PORT', parse: int(0, 65535), fallback: () => -1, help: 'node-to-node port (default: port + 1; 0 picks a free one)' },
  advertise: { flag: '--advertise', env: 'TROUPE_ADVERTISE', parse: str, fallback: () => '', help: 'address other nodes dial (default: --host)' },
  zone: { flag: '--zone', env: 'TROUPE_ZONE', parse: str, fallback: () => '', help: 'zone label, published in discovery' },
  insecureCluster: { flag: '--insecure-cluster', env: 'TROUPE_INSECURE_CLUSTER', parse: oneOf(['true', 'false'] as const), fallback: () => 'false' as 'true' | 'false', help: 'allow cluster mode without TROUPE_CLUSTER_SECRET (links unauthenticated)' },
  logLevel: { flag: '--log-level', env: 'TROUPE_LOG_LEVEL', parse: oneOf(['debug', 'info', 'warn', 'error', 'silent'] as const), fallback: () => 'info' as const, help: 'log level' },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof SETTINGS;
type Values = { [K in keyof Settings]: ReturnType<Settings[K]['fallback']> };

/** Splits `--flag value` / `--flag=value` pairs; unknown flags are an error. */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const known = new Set(Object.values(SETTINGS).map((s) => s.flag));
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!known.has(flag)) throw new ConfigError(`unknown option ${flag} (see troupe start --help)`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`${flag} needs a value`);
    out.set(flag, value);
  }
  return out;
}

export function loadConfig(argv: readonly string[] = [], env: NodeJS.ProcessEnv = process.env, overrides: Partial<Values> = {}): NodeConfig {
  const flags = parseFlags(argv);
  const v = {} as Record<string, unknown>;
  for (const [name, s] of Object.entries(SETTINGS) as [keyof Settings, Setting<unknown>][]) {
    if (overrides[name] !== undefined) v[name] = overrides[name];
    else if (flags.has(s.flag)) v[name] = s.parse(flags.get(s.flag)!, s.flag);
    else if (env[s.env] !== undefined && env[s.env] !== '') v[name] = s.parse(env[s.env]!, s.env);
    else v[name] = s.fallback();
  }
  const val = v as Values;
  const maxThreads = val.threads;
  const minThreads = Math.min(val.minThreads, maxThreads);
  const config: NodeConfig = {
    nodeId: val.nodeId,
    host: val.host,
    port: val.port,
    actors: Object.freeze([...val.actors]),
    grid: Object.freeze({
      engine: val.grid,
      hazelcast: Object.freeze({
        clusterName: val.hazelcastCluster,
        members: Object.freeze([...val.hazelcastMembers]),
        connectTimeoutMs: val.hazelcastConnectTimeout,
        invocationTimeoutMs: val.hazelcastInvocationTimeout,
      }),
    }),
    minThreads,
    maxThreads,
    maxFrame: val.maxFrame,
    maxBatch: val.maxBatch,
    maxInflight: val.maxInflight,
    maxConnections: val.maxConnections,
    rateLimit: val.rateLimit,
    maxQueued: val.maxQueued,
    bulkheads: Object.freeze(parseBulkheadsSetting(val.bulkheads, { maxThreads, minThreads, maxQueued: val.maxQueued })),
    callTimeoutMs: val.callTimeout,
    turnsPerActorBatch: val.turnsPerActorBatch,
    commitWindowMs: val.commitWindow,
    idemMax: val.idemMax,
    idemTtlMs: val.idemTtl,
    idemMinAgeMs: val.idemMinAge,
    idleMs: val.idle,
    sagaScanMs: val.sagaScan,
    sagaStaleMs: val.sagaStale,
    logLevel: val.logLevel,
    authSecret: env.TROUPE_AUTH_SECRET === undefined || env.TROUPE_AUTH_SECRET === '' ? null : env.TROUPE_AUTH_SECRET,
    cluster: Object.freeze({
      discovery: val.discovery,
      consulUrl: val.consul,
      consulTtlMs: val.consulTtl,
      peers: val.peers,
      linkPort: val.linkPort,
      advertise: val.advertise === '' ? val.host : val.advertise,
      zone: val.zone,
      secret: env.TROUPE_CLUSTER_SECRET === undefined || env.TROUPE_CLUSTER_SECRET === '' ? null : env.TROUPE_CLUSTER_SECRET,
      insecure: val.insecureCluster === 'true',
    }),
  };
  if (config.authSecret !== null && config.authSecret.length < 32) throw new ConfigError('TROUPE_AUTH_SECRET must be at least 32 characters (HS256 keys should be as long as the hash)');
  if (config.cluster.discovery !== 'none') {
    if (config.cluster.secret === null && !config.cluster.insecure) {
      throw new ConfigError('cluster mode needs TROUPE_CLUSTER_SECRET (shared by all nodes) so strangers cannot join; --insecure-cluster true skips this on a trusted network');
    }
    if (config.cluster.secret !== null && config.cluster.secret.length < 16) throw new ConfigError('TROUPE_CLUSTER_SECRET must be at least 16 characters');
    if (config.cluster.discovery === 'static' && config.cluster.peers === '') throw new ConfigError('--discovery static needs --peers');
    if (['0.0.0.0', '::'].includes(config.cluster.advertise)) throw new ConfigError('--advertise must be an address other nodes can dial when --host is a wildcard');
  }
  return Object.freeze(config);
}

function parseBulkheadsSetting(spec: string, defaults: { maxThreads: number; minThreads: number; maxQueued: number }): BulkheadSpec[] {
  try {
    return parseBulkheads(spec, defaults);
  } catch (err) {
    if (err instanceof BulkheadSpecError) throw new ConfigError(`--bulkheads: ${err.message}`);
    throw err;
  }
}

/** The configuration table, for `troupe start --help` and the README. */
export function settingsHelp(): string {
  return Object.values(SETTINGS)
    .map((s) => `  ${s.flag.padEnd(32)} ${s.env.padEnd(34)} ${s.help}`)
    .join('\n');
}
