/**
 * Rates and latency quantiles from two samples of a node's cumulative
 * counters (NodeStats.figures): calls/s and errors/s per actor type, and
 * p50/p99 from the latency histogram's buckets, interpolated within a bucket
 * as Prometheus' histogram_quantile does.
 */
import type { CallFigures } from '../metrics/node-metrics.js';

export interface TypeRates {
  /** Per second over the window. */
  readonly calls: number;
  readonly errors: number;
  /** Milliseconds; null when no call finished in the window. */
  readonly p50: number | null;
  readonly p99: number | null;
}

/** Per-bucket counts finished in the window, per type (the last entry is the +Inf bucket). */
export type BucketDeltas = Record<string, number[]>;

export function bucketDeltas(older: CallFigures, newer: CallFigures): BucketDeltas {
  const out: BucketDeltas = {};
  for (const [type, s] of Object.entries(newer.latency)) {
    const o = older.latency[type];
    const counts = s.counts.map((c, i) => c - (o?.counts[i] ?? 0));
    const inf = s.count - sum(s.counts) - ((o?.count ?? 0) - sum(o?.counts ?? []));
    out[type] = [...counts, inf];
  }
  return out;
}

export function ratesBetween(older: CallFigures, newer: CallFigures, seconds: number, deltas = bucketDeltas(older, newer)): Record<string, TypeRates> {
  const out: Record<string, TypeRates> = {};
  const per = seconds > 0 ? 1 / seconds : 0;
  for (const type of Object.keys(newer.calls)) {
    const d = deltas[type] ?? [];
    out[type] = {
      calls: ((newer.calls[type] ?? 0) - (older.calls[type] ?? 0)) * per,
      errors: ((newer.errors[type] ?? 0) - (older.errors[type] ?? 0)) * per,
      p50: quantileMs(newer.bounds, d, 0.5),
      p99: quantileMs(newer.bounds, d, 0.99),
    };
  }
  return out;
}

/** Adds bucket deltas of several nodes, so a cluster-wide quantile comes from all their calls. */
export function addDeltas(into: BucketDeltas, more: BucketDeltas): void {
  for (const [type, d] of Object.entries(more)) {
    const t = (into[type] ??= d.map(() => 0));
    for (let i = 0; i < d.length; i++) t[i] = (t[i] ?? 0) + d[i]!;
  }
}

/** The q-quantile in ms of per-bucket counts over `bounds` (seconds, with a trailing +Inf bucket). */
export function quantileMs(bounds: readonly number[], counts: readonly number[], q: number): number | null {
  const total = sum(counts);
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0 && seen + c >= rank) {
      // Past the last bound nothing is known but that it is larger: report the last bound.
      if (i >= bounds.length) return bounds[bounds.length - 1]! * 1000;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return (lower + (bounds[i]! - lower) * ((rank - seen) / c)) * 1000;
    }
    seen += c;
  }
  return bounds[bounds.length - 1]! * 1000;
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
