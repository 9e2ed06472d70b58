import type { GridConfig } from '../grid/index.js';
import type { WireLimits } from '../protocol/limits.js';
import { BulkheadSpecError, parseBulkheads, type BulkheadSpec } from './bulkheads.js';
import { didYouMean } from './did-you-mean.js';
import { ConfigError } from './settings/kinds.js';
import { parseStreamSpecs, StreamSpecError, type StreamSpec } from './streams/stream-spec.js';
import { SECRETS, SETTINGS, type SecretName, type Setting, type SettingName, type SettingValue, type SettingValues } from './settings/settings.js';

export { ConfigError } from './settings/kinds.js';
export { SECRETS, SETTINGS } from './settings/settings.js';

/**
 * A node's settings, parsed and validated once at start-up (flags, or the
 * typed settings given to `startNode`, win over environment variables, which
 * win over defaults) into a frozen object. A bad value stops the node with
 * one line naming the setting. The settings themselves are listed in
 * settings/settings.ts.
 */
export interface NodeConfig {
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
  /** Origins whose pages may call the HTTP API from a browser (CORS); empty: none, `*`: any. */
  readonly allowedOrigins: readonly string[];
  readonly actors: readonly string[];
  readonly grid: GridConfig;
  /** Worker threads per pool: grows from min to max with load. */
  readonly minThreads: number;
  readonly maxThreads: number;
  readonly maxFrame: number;
  readonly maxBatch: number;
  /** Bounds on one message's shape (depth, identifier, string and collection sizes), checked as frames and bodies are decoded. */
  readonly limits: WireLimits;
  readonly maxInflight: number;
  readonly maxConnections: number;
  /** Calls per second per connection; 0 means unlimited. */
  readonly rateLimit: number;
  /** Turns waiting in mailboxes node-wide before new calls get E_OVERLOADED. */
  readonly maxQueued: number;
  /** Groups of actor types with pools and backlogs of their own; the rest share `default`. */
  readonly bulkheads: readonly BulkheadSpec[];
  /** External streams whose records become calls (`--stream`); none by default. */
  readonly streams: readonly StreamSpec[];
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
  /** A cached record older than this is read again before a turn: the staleness bound of reads while views differ. */
  readonly readLeaseMs: number;
  /** Most live actors per bulkhead, and most bytes of cached records they may hold: past either, the least recently used idle ones are forgotten. */
  readonly maxActivations: number;
  readonly maxActivationBytes: number;
  readonly sagaScanMs: number;
  readonly sagaStaleMs: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** OTLP/HTTP traces URL; null: tracing off (no span is made, the OpenTelemetry SDK is not loaded). */
  readonly otelEndpoint: string | null;
  readonly cluster: ClusterConfig;
  /** From TROUPE_AUTH_SECRET (or the authSecret setting when embedding; never a flag): when set, clients must present an HS256 JWT signed with it. Never logged. */
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
  /** From TROUPE_CLUSTER_SECRET, or the clusterSecret setting when embedding (never a flag: flags show in `ps`). Never logged. */
  readonly secret: string | null;
  readonly insecure: boolean;
}

/** Typed settings, as code gives them to `startNode`: the CLI's settings by name, and the secrets. */
export type NodeSettings = { readonly [K in SettingName]?: SettingValue<K> } & { readonly [K in SecretName]?: string };

/** Settings given explicitly (flags, or code): checked, not yet merged with the environment and defaults. */
export type GivenSettings = { -readonly [K in SettingName]?: SettingValue<K> } & { -readonly [K in SecretName]?: string };

const FLAG_TO_NAME = new Map<string, SettingName>(Object.entries(SETTINGS).map(([name, s]) => [s.flag, name as SettingName]));

/** The flags `troupe start` takes. */
export function knownFlags(): string[] {
  return [...FLAG_TO_NAME.keys()];
}

/** Splits `--flag value` / `--flag=value` pairs; unknown flags are an error (naming the nearest known one). */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!FLAG_TO_NAME.has(flag)) throw new ConfigError(`unknown option ${flag}${didYouMean(flag, knownFlags())} (see troupe start --help)`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`${flag} needs a value`);
    out.set(flag, value);
  }
  return out;
}

/** `troupe start` flags → typed settings, each read by its setting's kind. */
export function settingsFromFlags(argv: readonly string[]): GivenSettings {
  const given: Record<string, unknown> = {};
  for (const [flag, raw] of parseFlags(argv)) {
    const name = FLAG_TO_NAME.get(flag)!;
    given[name] = (SETTINGS[name] as Setting<unknown>).kind.parse(raw, flag);
  }
  return given as GivenSettings;
}

/**
 * Checks settings given in code the way the CLI checks its flags (same
 * kinds, same messages, naming the flag): an unknown name or a wrong value
 * is a ConfigError.
 */
export function checkSettings(settings: NodeSettings): GivenSettings {
  if (settings === null || typeof settings !== 'object') throw new ConfigError('settings must be an object');
  const given: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    if (name in SECRETS) {
      if (typeof value !== 'string') throw new ConfigError(`${SECRETS[name as SecretName].env} must be a string`);
      given[name] = value;
      continue;
    }
    const s = (SETTINGS as Record<string, Setting<unknown>>)[name];
    if (s === undefined) throw new ConfigError(`unknown setting '${name}'${didYouMean(name, [...Object.keys(SETTINGS), ...Object.keys(SECRETS)])}`);
    given[name] = s.kind.check(value, s.flag);
  }
  return given as GivenSettings;
}

/** Reads `troupe start` flags and the environment into a node's frozen configuration. */
export function loadConfig(argv: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): NodeConfig {
  return resolveConfig(settingsFromFlags(argv), env);
}

/**
 * Given settings (already checked), then environment variables, then
 * defaults, into the frozen configuration; the checks that span settings
 * run here, once, for the CLI and for embedding alike.
 */
export function resolveConfig(given: GivenSettings, env: Readonly<Record<string, string | undefined>> = {}): NodeConfig {
  const v = {} as Record<string, unknown>;
  for (const [name, s] of Object.entries(SETTINGS) as [SettingName, Setting<unknown>][]) {
    const raw = env[s.env];
    if (given[name] !== undefined) v[name] = given[name];
    else if (raw !== undefined && raw !== '') v[name] = s.kind.parse(raw, s.env);
    else v[name] = s.fallback();
  }
  const secret = (name: SecretName): string | null => {
    const value = given[name] ?? env[SECRETS[name].env];
    if (value === undefined || value === '') return null;
    if (value.length < SECRETS[name].minLength) throw new ConfigError(`${SECRETS[name].env} must be at least ${SECRETS[name].minLength} characters${name === 'authSecret' ? ' (HS256 keys should be as long as the hash)' : ''}`);
    return value;
  };
  const val = v as SettingValues;
  const maxThreads = val.threads;
  const minThreads = Math.min(val.minThreads, maxThreads);
  const config: NodeConfig = {
    nodeId: val.nodeId,
    host: val.host,
    port: val.port,
    allowedOrigins: Object.freeze([...val.allowedOrigins]),
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
    limits: Object.freeze({
      maxDepth: val.maxDepth,
      maxKey: val.maxKey,
      // Unset: the frame bounds them already (every element and every byte of a string is in the frame).
      maxString: val.maxString === -1 ? val.maxFrame : val.maxString,
      maxCollection: val.maxCollection === -1 ? val.maxFrame : val.maxCollection,
    }),
    maxInflight: val.maxInflight,
    maxConnections: val.maxConnections,
    rateLimit: val.rateLimit,
    maxQueued: val.maxQueued,
    bulkheads: Object.freeze(parseBulkheadsSetting(val.bulkheads, { maxThreads, minThreads, maxQueued: val.maxQueued })),
    streams: Object.freeze(parseStreamSetting(val.stream)),
    callTimeoutMs: val.callTimeout,
    turnsPerActorBatch: val.turnsPerBatch,
    commitWindowMs: val.commitWindow,
    idemMax: val.idemMax,
    idemTtlMs: val.idemTtl,
    idemMinAgeMs: val.idemMinAge,
    idleMs: val.idle,
    readLeaseMs: val.readLease,
    maxActivations: val.maxActivations,
    maxActivationBytes: val.maxActivationMb * 1024 * 1024,
    sagaScanMs: val.sagaScan,
    sagaStaleMs: val.sagaStale,
    logLevel: val.logLevel,
    otelEndpoint: val.otelEndpoint === '' ? null : val.otelEndpoint,
    authSecret: secret('authSecret'),
    cluster: Object.freeze({
      discovery: val.discovery,
      consulUrl: val.consul,
      consulTtlMs: val.consulTtl,
      peers: val.peers,
      linkPort: val.linkPort,
      advertise: val.advertise === '' ? val.host : val.advertise,
      zone: val.zone,
      secret: secret('clusterSecret'),
      insecure: val.insecureCluster,
    }),
  };
  for (const [flag, limit] of [['--max-string', config.limits.maxString], ['--max-collection', config.limits.maxCollection]] as const) {
    if (limit > config.maxFrame) throw new ConfigError(`${flag} (${limit}) must not exceed --max-frame (${config.maxFrame}): no frame could hold more`);
  }
  if (config.otelEndpoint !== null && !isHttpUrl(config.otelEndpoint)) {
    throw new ConfigError(`--otel-endpoint must be an http:// or https:// URL, got '${config.otelEndpoint}'`);
  }
  if (config.cluster.discovery !== 'none') {
    if (config.cluster.secret === null && !config.cluster.insecure) {
      throw new ConfigError('cluster mode needs TROUPE_CLUSTER_SECRET (shared by all nodes) so strangers cannot join; --insecure-cluster true skips this on a trusted network');
    }
    if (config.cluster.discovery === 'static' && config.cluster.peers === '') throw new ConfigError('--discovery static needs --peers');
    if (['0.0.0.0', '::'].includes(config.cluster.advertise)) throw new ConfigError('--advertise must be an address other nodes can dial when --host is a wildcard');
  }
  return Object.freeze(config);
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function parseStreamSetting(spec: string): StreamSpec[] {
  try {
    return parseStreamSpecs(spec);
  } catch (err) {
    if (err instanceof StreamSpecError) throw new ConfigError(`--stream: ${err.message}`);
    throw err;
  }
}

function parseBulkheadsSetting(spec: string, defaults: { maxThreads: number; minThreads: number; maxQueued: number }): BulkheadSpec[] {
  try {
    return parseBulkheads(spec, defaults);
  } catch (err) {
    if (err instanceof BulkheadSpecError) throw new ConfigError(`--bulkheads: ${err.message}`);
    throw err;
  }
}
