import type { TransportOptions } from '../transport.js';
import { HANDSHAKE_MAX_FRAME } from './handshake.js';

/** Tuning of the tcp engine; every field has a default that suits a LAN cluster. */
export interface TcpTuning {
  /** A peer must finish the handshake within this, ms (strangers and slowloris are cut off here). Default 2000. */
  readonly handshakeTimeoutMs?: number;
  /** Messages kept per peer while its link is being made; past it `send()` returns false. Default 10 000. */
  readonly maxQueue?: number;
  /** Bytes per peer waiting to be written (queued, or in the socket's buffer); past it `send()` returns false. Default 64 MiB. */
  readonly maxQueueBytes?: number;
  /** Reconnect backoff bounds, ms: the delay doubles from min to max, with jitter. Default 50 .. 2000. */
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  /** Connection attempts in the breaker's 10 s window before it may open. Default 5. */
  readonly breakerVolume?: number;
  /** Failed share of attempts (percent) that opens it. Default 50. */
  readonly breakerErrorPercent?: number;
  /** How long it stays open before one attempt probes the peer, ms. Default 2000. */
  readonly breakerResetMs?: number;
  /** A link with nothing to send writes a heartbeat this often, ms. Default 1000. */
  readonly heartbeatMs?: number;
  /** A link on which nothing arrives for this long is dropped, ms. Default 10 000. */
  readonly idleTimeoutMs?: number;
  /** Unauthenticated connections kept at once; a new one evicts the oldest. Default 128. */
  readonly maxPendingHandshakes?: number;
  /** Benchmarks only: false writes a frame per message instead of one per peer per tick. */
  readonly batching?: boolean;
}

export type TcpTransportOptions = TransportOptions & TcpTuning;

export type ResolvedTcpOptions = Readonly<TransportOptions & Required<TcpTuning>>;

/** Shortest secret accepted; the same rule as TROUPE_CLUSTER_SECRET in the node's configuration. */
export const MIN_SECRET = 16;

function int(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`transport option ${name} must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
  return value;
}

/** Checks every option once, where it enters; a bad one throws a TypeError naming it. The secret is never echoed. */
export function resolveTcpOptions(o: TcpTransportOptions): ResolvedTcpOptions {
  if (typeof o !== 'object' || o === null) throw new TypeError('transport options must be an object');
  if (typeof o.nodeId !== 'string' || o.nodeId.length === 0 || o.nodeId.length > 256) {
    throw new TypeError('transport option nodeId must be a non-empty string of at most 256 characters');
  }
  if (o.secret !== null && (typeof o.secret !== 'string' || o.secret.length < MIN_SECRET)) {
    throw new TypeError(`transport option secret must be a string of at least ${MIN_SECRET} characters, or null for insecure mode`);
  }
  if (typeof o.log !== 'function') throw new TypeError('transport option log must be a function');
  if (o.maxFrame === undefined) throw new TypeError('transport option maxFrame is required');
  // The length prefix is a uint32; a Buffer above 2 GiB is not worth supporting on a link.
  const maxFrame = int(o.maxFrame, 'maxFrame', 0, HANDSHAKE_MAX_FRAME, 0x7fff_ffff);
  if (o.batching !== undefined && typeof o.batching !== 'boolean') throw new TypeError('transport option batching must be a boolean');
  const backoffMinMs = int(o.backoffMinMs, 'backoffMinMs', 50, 1, 60_000);
  const heartbeatMs = int(o.heartbeatMs, 'heartbeatMs', 1000, 10, 60_000);
  const resolved = {
    nodeId: o.nodeId,
    secret: o.secret,
    maxFrame,
    log: o.log,
    handshakeTimeoutMs: int(o.handshakeTimeoutMs, 'handshakeTimeoutMs', 2000, 10, 60_000),
    maxQueue: int(o.maxQueue, 'maxQueue', 10_000, 1, 10_000_000),
    maxQueueBytes: int(o.maxQueueBytes, 'maxQueueBytes', Math.max(64 * 1024 * 1024, 2 * maxFrame), maxFrame, Number.MAX_SAFE_INTEGER),
    backoffMinMs,
    backoffMaxMs: int(o.backoffMaxMs, 'backoffMaxMs', Math.max(2000, backoffMinMs), backoffMinMs, 600_000),
    breakerVolume: int(o.breakerVolume, 'breakerVolume', 5, 1, 1000),
    breakerErrorPercent: int(o.breakerErrorPercent, 'breakerErrorPercent', 50, 0, 99),
    breakerResetMs: int(o.breakerResetMs, 'breakerResetMs', 2000, 10, 600_000),
    heartbeatMs,
    idleTimeoutMs: int(o.idleTimeoutMs, 'idleTimeoutMs', 10_000, 2 * heartbeatMs, 3_600_000),
    maxPendingHandshakes: int(o.maxPendingHandshakes, 'maxPendingHandshakes', 128, 1, 100_000),
    batching: o.batching ?? true,
  };
  return Object.freeze(resolved);
}
