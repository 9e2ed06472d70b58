/**
 * Per-thread scheduler accounting of a process over a window: time on a CPU,
 * time runnable but waiting for one, and how often each thread went to sleep
 * (voluntary switches) or was preempted. Read from /proc/PID/task/TID:
 * `schedstat` is the scheduler's own nanosecond account, not the 10 ms tick
 * sampling of `stat`. Linux only; elsewhere a snapshot is null.
 *
 * Why the latency budget wants it: at 1 in flight the wall-clock stages show
 * where a call waits, not what each crossing costs the threads involved. A
 * thread that sleeps and is woken once per call pays for the switch on its
 * own CPU time, and on a virtual machine that is far more than the work it
 * does (bench/README.md, "Latency budget").
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ThreadAccount {
  readonly tid: number;
  /** ns on a CPU. */
  readonly runNs: number;
  /** ns runnable, waiting for a CPU. */
  readonly waitNs: number;
  readonly sleeps: number;
  readonly preempted: number;
}

export type ThreadSnapshot = ReadonlyMap<number, ThreadAccount>;

function account(pid: number, tid: number): ThreadAccount | null {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    const sleeps = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
    const preempted = Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
    if (![run, wait, sleeps, preempted].every(Number.isFinite)) return null;
    return { tid, runNs: run!, waitNs: wait!, sleeps, preempted };
  } catch {
    // The thread ended between the listing and the read.
    return null;
  }
}

/** Every thread of `pid` now; null without /proc or when the process is gone. */
export function threadSnapshot(pid: number): ThreadSnapshot | null {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const out = new Map<number, ThreadAccount>();
  for (const t of tids) {
    const a = account(pid, Number(t));
    if (a !== null) out.set(a.tid, a);
  }
  return out;
}

/** What each thread that lived through both snapshots did between them. */
export function threadDelta(before: ThreadSnapshot, after: ThreadSnapshot): ThreadAccount[] {
  const out: ThreadAccount[] = [];
  for (const [tid, b] of after) {
    const a = before.get(tid);
    if (a === undefined) continue;
    out.push({ tid, runNs: b.runNs - a.runNs, waitNs: b.waitNs - a.waitNs, sleeps: b.sleeps - a.sleeps, preempted: b.preempted - a.preempted });
  }
  return out;
}

/** Sums of `threads`, per call. */
export interface PerCall {
  readonly cpuUs: number;
  readonly runQueueUs: number;
  readonly sleeps: number;
  readonly preempted: number;
}

export function perCall(threads: readonly ThreadAccount[], calls: number): PerCall {
  const sum = (f: (t: ThreadAccount) => number): number => threads.reduce((s, t) => s + f(t), 0) / calls;
  const round = (n: number, d: number): number => Math.round(n * 10 ** d) / 10 ** d;
  return {
    cpuUs: round(sum((t) => t.runNs) / 1000, 1),
    runQueueUs: round(sum((t) => t.waitNs) / 1000, 1),
    sleeps: round(sum((t) => t.sleeps), 2),
    preempted: round(sum((t) => t.preempted), 3),
  };
}
