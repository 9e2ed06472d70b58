/**
 * One node's own figures, as served at /dash/node.json and read by the
 * dashboard of every other node: cumulative counters (rates are made by the
 * reader, from two samples) and current gauges. Built only when asked.
 */
import type { CallFigures, MetricsSource } from '../metrics/node-metrics.js';

export interface NodeStats {
  readonly id: string;
  /** When this process's node started (epoch ms): counters restart with it. */
  readonly started: number;
  /** When this sample was taken (epoch ms, the node's clock). */
  readonly at: number;
  readonly state: string;
  readonly figures: CallFigures;
  readonly queued: number;
  readonly activeActors: number;
  readonly connections: number;
  readonly outbox: ReturnType<MetricsSource['outbox']>;
  readonly reminders: { pending: number; fired: number; dueSoon: number };
  readonly breakers: ReturnType<MetricsSource['breakers']>;
  /** Shards per member in this node's view of placement (empty outside a cluster). */
  readonly shards: Record<string, number>;
}

/** How far ahead "reminders due" looks. */
export const DUE_SOON_MS = 60_000;

export type NodeStatsRead =
  | { readonly ok: true; readonly stats: NodeStats }
  | { readonly ok: false; readonly definite: boolean; readonly reason: string };

/**
 * Reads a peer's /dash/node.json with a short deadline, so a dead or stuck
 * peer costs one timeout, never a stalled page. `definite`: the peer's port
 * refused the connection (the process is gone), not merely slow.
 */
export async function readPeerStats(url: string, token: string | null, timeoutMs: number): Promise<NodeStatsRead> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    if (r.status !== 200) {
      await r.body?.cancel();
      return { ok: false, definite: false, reason: `HTTP ${r.status}` };
    }
    return { ok: true, stats: (await r.json()) as NodeStats };
  } catch (err) {
    const code = ((err as { cause?: { code?: string } }).cause?.code) ?? '';
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET') return { ok: false, definite: true, reason: `connection ${code === 'ECONNREFUSED' ? 'refused' : 'reset'}` };
    return { ok: false, definite: false, reason: (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message };
  }
}
