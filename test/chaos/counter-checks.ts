/**
 * The counter workload's verdict, pure (no I/O), so each rule can be tested
 * on a made-up run:
 *
 * - Exactly once: a key's final total lies within [acknowledged sum,
 *   acknowledged + unanswered sum]: an add whose answer was lost may have
 *   been applied once or not at all, never twice.
 * - Single writer: every add answers the key's new total, and amounts are
 *   positive, so the totals answered for one key are all different, each at
 *   least its own amount, none above the final total, and an add sent after
 *   another was answered answers a larger total (one history, in real-time
 *   order). Two owners applying adds side by side break one of these.
 * - Fresh reads: a read returns a total at least as large as that of every
 *   add acknowledged before the read began. A read that misses one is
 *   stale; how stale is the time from the ack of the earliest add it missed
 *   to the read's start (the measured staleness: 0 for a fresh read).
 */
import type { AddRecord, ReadRecord } from './counter-load.js';
import type { Violation } from './checks.js';

export interface CounterVerdict {
  readonly violations: Violation[];
  /** Per read, ms of staleness (0: fresh), in no particular order. */
  readonly staleness: number[];
}

interface Acked {
  readonly amount: number;
  readonly sentAt: number;
  readonly ackedAt: number;
  readonly value: number;
}

export function checkCounters(adds: readonly AddRecord[], reads: readonly ReadRecord[], finals: ReadonlyMap<string, number | null>): CounterVerdict {
  const violations: Violation[] = [];
  const staleness: number[] = [];
  const keys = new Set<string>([...finals.keys(), ...adds.map((a) => a.key)]);
  for (const key of keys) {
    const mine = adds.filter((a) => a.key === key);
    const acked: Acked[] = [];
    let unknown = 0;
    for (const a of mine) {
      if (a.ackedAt !== undefined && a.value !== undefined) acked.push({ amount: a.amount, sentAt: a.sentAt, ackedAt: a.ackedAt, value: a.value });
      else unknown += a.amount;
    }
    const ackedSum = acked.reduce((s, a) => s + a.amount, 0);
    const final = finals.get(key);
    if (final === undefined || final === null) {
      violations.push({ kind: 'counter_unreadable', detail: `counter ${key} could not be read after the run` });
    } else if (final < ackedSum) {
      violations.push({ kind: 'counter_lost', detail: `counter ${key} ends at ${final}, below the ${ackedSum} its ${acked.length} acknowledged adds sum to` });
    } else if (final > ackedSum + unknown) {
      violations.push({ kind: 'counter_doubled', detail: `counter ${key} ends at ${final}, above acknowledged ${ackedSum} + unanswered ${unknown}: an add was applied twice` });
    }
    violations.push(...checkHistory(key, acked, final ?? null));
    const keyReads = reads.filter((r) => r.key === key);
    const verdict = checkReads(key, acked, keyReads);
    violations.push(...verdict.violations);
    staleness.push(...verdict.staleness);
  }
  return { violations, staleness };
}

function checkHistory(key: string, acked: readonly Acked[], final: number | null): Violation[] {
  const out: Violation[] = [];
  const byValue = [...acked].sort((a, b) => a.value - b.value);
  for (let i = 0; i < byValue.length; i++) {
    const a = byValue[i]!;
    if (i > 0 && byValue[i - 1]!.value === a.value) out.push({ kind: 'counter_history', detail: `counter ${key}: two adds both answered total ${a.value} (two writers, or one add's effect lost)` });
    if (a.value < a.amount) out.push({ kind: 'counter_history', detail: `counter ${key}: an add of ${a.amount} answered total ${a.value}, less than itself` });
  }
  const top = byValue.at(-1);
  if (top !== undefined && final !== null && top.value > final) out.push({ kind: 'counter_lost', detail: `counter ${key}: an add answered total ${top.value}, but the key ends at ${final}` });
  // Real-time order: walk adds by send time, keeping the largest total answered before each was sent.
  const byAck = [...acked].sort((a, b) => a.ackedAt - b.ackedAt);
  const bySend = [...acked].sort((a, b) => a.sentAt - b.sentAt);
  let j = 0;
  let best: Acked | undefined;
  for (const b of bySend) {
    while (j < byAck.length && byAck[j]!.ackedAt < b.sentAt) {
      if (best === undefined || byAck[j]!.value > best.value) best = byAck[j]!;
      j++;
    }
    if (best !== undefined && best.value >= b.value) {
      out.push({ kind: 'counter_history', detail: `counter ${key}: an add sent ${b.sentAt - best.ackedAt} ms after another answered ${best.value} answered ${b.value}, not more (the history went backwards)` });
    }
  }
  return out;
}

function checkReads(key: string, acked: readonly Acked[], reads: readonly ReadRecord[]): CounterVerdict {
  const violations: Violation[] = [];
  const staleness: number[] = [];
  const byAck = [...acked].sort((a, b) => a.ackedAt - b.ackedAt);
  const byStart = [...reads].sort((a, b) => a.startedAt - b.startedAt);
  let j = 0;
  let best = -Infinity;
  for (const r of byStart) {
    while (j < byAck.length && byAck[j]!.ackedAt < r.startedAt) best = Math.max(best, byAck[j++]!.value);
    if (best <= r.value) {
      staleness.push(0);
      continue;
    }
    // The earliest add acknowledged before the read whose total the read lacks: how far back the read looked.
    const missed = byAck.find((a) => a.ackedAt < r.startedAt && a.value > r.value)!;
    const ms = r.startedAt - missed.ackedAt;
    staleness.push(ms);
    violations.push({ kind: 'stale_read', detail: `counter ${key}: a read begun ${ms} ms after an add answered total ${missed.value} returned ${r.value} (newest acknowledged before it: ${best})` });
  }
  return { violations, staleness };
}

/** The q-quantile of `values` (nearest rank), or null for none. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
