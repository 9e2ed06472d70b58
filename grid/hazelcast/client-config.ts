import { type ClientConfig, EvictionPolicy, InMemoryFormat, type LifecycleState, ReconnectMode } from 'hazelcast-client';
import { jsonClientLogger } from './client-logger.js';
import { HOT_MAP_PATTERN } from './names.js';
import type { ResolvedOptions } from './options.js';

/**
 * The hazelcast-client configuration behind the engine. Each setting below
 * serves one promise of the Grid contract; the defaults of the client would
 * break several of them (a 120 s invocation timeout, a client that shuts
 * itself down when the cluster is gone, writes not retried after a member
 * dies).
 */
export function clientConfig(o: ResolvedOptions, onState: (state: LifecycleState) => void): ClientConfig {
  return {
    clusterName: o.clusterName,
    lifecycleListeners: [onState],
    customLogger: jsonClientLogger(o.logLevel, o.clusterName),
    network: {
      clusterMembers: [...o.members],
      // Per TCP connect attempt; clusterConnectTimeoutMillis bounds the whole wait.
      connectionTimeout: Math.min(o.connectTimeoutMs, 5_000),
      smartRouting: o.smartRouting,
      // Retry writes whose connection died before the reply, on the partition's
      // new owner. Safe for us: a replayed replace/putIfAbsent that had already
      // landed reports a "conflict" whose current bytes equal what we wrote,
      // and records.ts counts that as success.
      redoOperation: true,
    },
    connectionStrategy: {
      // Synchronous start: newHazelcastClient resolves once connected to every
      // member (an asyncStart client never connects to the others, see
      // client-supervisor.ts), or rejects after connectTimeoutMs.
      asyncStart: false,
      // While disconnected, operations fail at once with ClientOfflineError
      // (turned into E_UNAVAILABLE) and the client reconnects in the
      // background, so the node keeps running and resumes when the grid returns.
      reconnectMode: ReconnectMode.ASYNC,
      connectionRetry: {
        // Bounds the first connection and each reconnection; a client that
        // gives up shuts down and ClientSupervisor opens a new one.
        clusterConnectTimeoutMillis: o.connectTimeoutMs,
        initialBackoffMillis: 100,
        maxBackoffMillis: o.reconnectBackoffMaxMs,
        multiplier: 2,
        jitter: 0.2,
      },
    },
    nearCaches: {
      // Hot maps only. Reads are eventually consistent: another node's write
      // reaches this cache through an invalidation event (normally within
      // milliseconds; a lost event is repaired by periodic reconciliation).
      // This node's own writes invalidate its cache at once.
      [HOT_MAP_PATTERN]: {
        invalidateOnChange: true,
        inMemoryFormat: InMemoryFormat.BINARY,
        evictionPolicy: EvictionPolicy.LRU,
        evictionMaxSize: o.nearCacheMaxEntries,
      },
    },
    metrics: { enabled: false },
    properties: {
      'hazelcast.client.invocation.timeout.millis': o.invocationTimeoutMs,
      // After the first few fast retries (e.g. while a dead member's partitions
      // move), the client pauses 1 s between attempts by default; on a
      // failover that pause is most of the outage we would see.
      'hazelcast.client.invocation.retry.pause.millis': 100,
      // A member that hangs without closing its socket is noticed after this, not the default 60 s.
      'hazelcast.client.heartbeat.interval': 2_000,
      'hazelcast.client.heartbeat.timeout': 10_000,
      // A write waits at most this long for its backup's acknowledgement (a dead backup member).
      'hazelcast.client.operation.backup.timeout.millis': Math.min(5_000, o.invocationTimeoutMs),
      // ...and then fails (IndeterminateOperationStateError, E_UNAVAILABLE) rather
      // than succeeding: a write acknowledged without its backup may exist on one
      // member only, the cut-off side of a network partition, and be thrown away
      // by the merge. The caller retries with its idempotency key; a write that
      // did land is then recognised (records.ts), so nothing applies twice.
      'hazelcast.client.operation.fail.on.indeterminate.state': true,
    },
  };
}
