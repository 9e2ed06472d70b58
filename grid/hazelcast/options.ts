/** Settings of the Hazelcast engine. The first four come from `GridConfig.hazelcast`; the rest have defaults. */
export interface HazelcastGridOptions {
  readonly clusterName: string;
  /** `host:port` of one or more members; the client learns the rest from the cluster. */
  readonly members: readonly string[];
  /** How long `start()` waits for the first connection before failing with E_UNAVAILABLE. */
  readonly connectTimeoutMs: number;
  /** Upper bound for one operation, retries included; past it the operation fails with E_UNAVAILABLE. */
  readonly invocationTimeoutMs: number;
  /**
   * `true` (default): one connection per member, requests go straight to the
   * partition owner. `false`: a single connection, for clients that reach the
   * cluster through a proxy or NAT.
   */
  readonly smartRouting?: boolean;
  /** hazelcast-client's own log level; `WARN` shows connection loss and recovery. */
  readonly logLevel?: 'OFF' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';
  /** Records whose stored bytes are remembered for one-round-trip version checks (see last-seen.ts). */
  readonly lastSeenCapacity?: number;
  /** Entries each hot map keeps in the client's near cache. */
  readonly nearCacheMaxEntries?: number;
  /** Longest pause between reconnection attempts after the cluster is lost. */
  readonly reconnectBackoffMaxMs?: number;
}

export type ResolvedOptions = Readonly<Required<HazelcastGridOptions>>;

const LOG_LEVELS = ['OFF', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'] as const;
const MEMBER_ADDRESS = /^[^\s:]+:\d{1,5}$/;

function positiveInt(name: string, value: unknown, fallback?: number): number {
  const v = value === undefined ? fallback : value;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new TypeError(`hazelcast option '${name}' must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return v;
}

/** Checks every option once, where it enters, and returns a frozen copy with defaults filled in. */
export function resolveOptions(o: HazelcastGridOptions): ResolvedOptions {
  if (typeof o.clusterName !== 'string' || o.clusterName === '') {
    throw new TypeError(`hazelcast option 'clusterName' must be a non-empty string, got ${JSON.stringify(o.clusterName)}`);
  }
  if (!Array.isArray(o.members) || o.members.length === 0 || !o.members.every((m) => typeof m === 'string' && MEMBER_ADDRESS.test(m))) {
    throw new TypeError(`hazelcast option 'members' must be a non-empty list of host:port, got ${JSON.stringify(o.members)}`);
  }
  const logLevel = o.logLevel ?? 'WARN';
  if (!LOG_LEVELS.includes(logLevel)) throw new TypeError(`hazelcast option 'logLevel' must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(o.logLevel)}`);
  if (o.smartRouting !== undefined && typeof o.smartRouting !== 'boolean') {
    throw new TypeError(`hazelcast option 'smartRouting' must be a boolean, got ${JSON.stringify(o.smartRouting)}`);
  }
  return Object.freeze({
    clusterName: o.clusterName,
    members: Object.freeze([...o.members]),
    connectTimeoutMs: positiveInt('connectTimeoutMs', o.connectTimeoutMs),
    invocationTimeoutMs: positiveInt('invocationTimeoutMs', o.invocationTimeoutMs),
    smartRouting: o.smartRouting ?? true,
    logLevel,
    lastSeenCapacity: positiveInt('lastSeenCapacity', o.lastSeenCapacity, 100_000),
    nearCacheMaxEntries: positiveInt('nearCacheMaxEntries', o.nearCacheMaxEntries, 10_000),
    reconnectBackoffMaxMs: positiveInt('reconnectBackoffMaxMs', o.reconnectBackoffMaxMs, 2_000),
  });
}
