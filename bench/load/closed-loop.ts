/**
 * A closed-loop load generator: exactly `inFlight` calls outstanding at all
 * times, each lane issuing its next call when the previous one settles.
 * After a warm-up that is not recorded, calls are counted and timed for a
 * fixed window, which also ends early at `maxCalls`.
 */
import { createHistogram, performance } from 'node:perf_hooks';
import type { Caller } from '../drivers/index.js';

export interface LoadPlan {
  readonly inFlight: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  /** The measured window ends at this many completed calls even if time is left. */
  readonly maxCalls: number;
  /** Counter keys used round-robin across all lanes. */
  readonly keys: number;
  /** The key names, when a scenario needs particular ones (actors on a chosen node); default k0, k1, ... */
  readonly keyNames?: readonly string[];
  /** Server processes whose CPU use is reported with the result. */
  readonly serverPids: readonly number[];
}

export interface LoadResult {
  readonly inFlight: number;
  /** Calls completed in the measured window. */
  readonly calls: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly seconds: number;
  readonly callsPerSecond: number;
  readonly latencyUs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number; readonly mean: number };
  /** True when the window ended at maxCalls rather than at measureMs. */
  readonly cappedByCount: boolean;
}

/** Time to wait for the last calls when the run ends, before giving up on them. */
const DRAIN_MS = 10_000;
/** Stop early when this many calls have failed and none succeeded: the system is down. */
const GIVE_UP_ERRORS = 1_000;

/**
 * Phases are decided by reading the clock on every call rather than by
 * timers: a driver whose promises settle in microtasks could starve timers,
 * and the run must still end on time.
 */
export async function runClosedLoop(caller: Caller, plan: LoadPlan): Promise<LoadResult> {
  const keys = plan.keyNames ?? Array.from({ length: plan.keys }, (_, i) => `k${i}`);
  // ns, 1 ns .. 60 s at 3 significant figures.
  const histogram = createHistogram({ lowest: 1, highest: 60e9, figures: 3 });
  const begin = performance.now();
  const windowStart = begin + plan.warmupMs;
  let windowEnd = windowStart + plan.measureMs;
  // A bound on calls issued in all, warm-up included, independent of the clock.
  const issueCap = plan.maxCalls * 3 + plan.inFlight;
  let issued = 0;
  let nextKey = 0;
  let stopped = false;
  let calls = 0;
  let succeeded = 0;
  let errors = 0;
  let firstError: string | undefined;
  let cappedByCount = false;

  const lane = async (): Promise<void> => {
    while (!stopped && issued < issueCap) {
      const t0 = performance.now();
      if (t0 >= windowEnd) return;
      issued++;
      const key = keys[nextKey++ % keys.length];
      let ok = true;
      try {
        await caller.call(key);
      } catch (err) {
        ok = false;
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
        if (errors >= GIVE_UP_ERRORS && succeeded === 0) stopped = true;
      }
      const t1 = performance.now();
      if (!ok) continue;
      succeeded++;
      // Throughput counts every completion inside the window; each is timed
      // from its own start, which may fall in the warm-up.
      if (t1 >= windowStart && t1 < windowEnd && !stopped) {
        histogram.record(Math.max(1, Math.round((t1 - t0) * 1e6)));
        if (++calls >= plan.maxCalls) {
          cappedByCount = true;
          stopped = true;
          windowEnd = t1;
        }
      }
    }
  };

  const drained = Promise.all(Array.from({ length: plan.inFlight }, lane)).then(() => true);
  // Lanes end on their own at windowEnd; a call that never settles must not hang the run.
  let drainTimer: NodeJS.Timeout | undefined;
  const stuck = new Promise<false>((resolve) => {
    drainTimer = setTimeout(() => resolve(false), plan.warmupMs + plan.measureMs + DRAIN_MS);
  });
  const allDrained = await Promise.race([drained, stuck]);
  clearTimeout(drainTimer);
  if (!allDrained) firstError ??= `some calls had not settled ${DRAIN_MS} ms after the run ended`;

  const seconds = Math.max(0, Math.min(windowEnd, performance.now()) - windowStart) / 1000;
  const us = (ns: number): number => Math.round(ns / 100) / 10;
  return {
    inFlight: plan.inFlight,
    calls,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    seconds: Math.round(seconds * 1000) / 1000,
    callsPerSecond: seconds > 0 ? Math.round(calls / seconds) : 0,
    latencyUs: calls === 0
      ? { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 }
      : {
        p50: us(histogram.percentile(50)),
        p90: us(histogram.percentile(90)),
        p99: us(histogram.percentile(99)),
        max: us(histogram.max),
        mean: us(histogram.mean),
      },
    cappedByCount,
  };
}
