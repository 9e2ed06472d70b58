/**
 * Where a call's time goes on the node, stage by stage: the tracing mode
 * behind the latency budget in bench/README.md (bench/measure/latency-budget.ts).
 *
 * Off unless the process starts with TROUPE_TRACE_LATENCY=1: every site that
 * stamps checks one constant, so the hot path pays a branch and nothing else.
 * Stamps are absolute milliseconds (timeOrigin + now), so the worker thread's
 * stamps line up with the main thread's. Only turns that finish in their task
 * (synchronous handlers, the common case) are traced; a call whose group
 * awaited something has no worker stamps and is left out.
 */
import { performance } from 'node:perf_hooks';

export const TRACE_LATENCY = process.env.TROUPE_TRACE_LATENCY === '1';

export function stamp(): number {
  return performance.timeOrigin + performance.now();
}

/** The stages, in order, each named by what happens between two stamps. */
export const STAGES = ['gateway decode + routing', 'scheduler queue', 'hand-off to worker', 'worker: decode + handler', 'hand-back from worker', 'commit', 'reply encode + send'] as const;

/** One call's stamps (absolute ms; 0 = not reached). */
export class CallTrace {
  dispatched = 0;
  workerIn = 0;
  workerOut = 0;
  returned = 0;
  settled = 0;
  constructor(readonly frame: number, readonly routed: number) {}

  stages(sent: number): number[] | null {
    const t = [this.frame, this.routed, this.dispatched, this.workerIn, this.workerOut, this.returned, this.settled, sent];
    for (const v of t) if (v === 0) return null;
    return t.slice(1).map((v, i) => v - t[i]!);
  }
}

/** The frame being decoded now (set by the gateway before it decodes one). */
let frameAt = 0;

export function frameArrived(): void {
  frameAt = stamp();
}

export function newTrace(): CallTrace {
  const routed = stamp();
  return new CallTrace(frameAt === 0 ? routed : frameAt, routed);
}

const MAX_SAMPLES = 200_000;

/** Stage durations of the traced calls, kept for percentiles (bounded). */
class Budget {
  private readonly samples: number[][] = STAGES.map(() => []);
  private readonly totals: number[] = [];
  private count = 0;

  record(trace: CallTrace, sent: number): void {
    const stages = trace.stages(sent);
    if (stages === null || this.count >= MAX_SAMPLES) return;
    this.count++;
    for (let i = 0; i < stages.length; i++) this.samples[i]!.push(stages[i]!);
    this.totals.push(sent - trace.frame);
  }

  /** µs per stage: p50, p99, mean. */
  summary(): { calls: number; stages: Record<string, { p50: number; p99: number; mean: number }>; total: { p50: number; p99: number; mean: number } } {
    const stages: Record<string, { p50: number; p99: number; mean: number }> = {};
    STAGES.forEach((name, i) => (stages[name] = describe(this.samples[i]!)));
    return { calls: this.count, stages, total: describe(this.totals) };
  }
}

function describe(ms: number[]): { p50: number; p99: number; mean: number } {
  if (ms.length === 0) return { p50: 0, p99: 0, mean: 0 };
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 1000 * 10) / 10;
  return { p50: at(0.5), p99: at(0.99), mean: Math.round((ms.reduce((a, b) => a + b, 0) / ms.length) * 1000 * 10) / 10 };
}

export const latencyBudget = new Budget();
