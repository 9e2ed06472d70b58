/**
 * Where the machine's CPU went during a measured window: this process, the
 * server processes, and everything else. "Everything else" is what makes two
 * runs on a shared machine disagree, so every row reports it. Linux only
 * (/proc); elsewhere the figures are null.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** USER_HZ: the unit of /proc times, 100 on every mainstream Linux build. */
const TICKS_PER_SECOND = 100;

interface Snapshot {
  readonly at: number;
  /** Busy CPU seconds of the whole machine (all cores), interrupts excluded. */
  readonly machine: number;
  /** CPU seconds in interrupt and softirq context, where loopback traffic is processed. */
  readonly irq: number;
  readonly self: number;
  /** CPU seconds per watched PID; threads included. */
  readonly servers: number;
}

export interface CpuShare {
  /** Each in percent of one core over the window. */
  readonly client: number;
  readonly servers: number;
  /** Busy time outside the row's processes, interrupts excluded. */
  readonly other: number;
  /**
   * Interrupt and softirq time. It is mostly the row's own loopback traffic
   * (the kernel charges it to no process), so it is kept out of `other`.
   */
  readonly irq: number;
}

function machineBusy(): { busy: number; irq: number } {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal; guest time is already in user.
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return { busy: (user + nice + system + steal) / TICKS_PER_SECOND, irq: (irq + softirq) / TICKS_PER_SECOND };
}

function processCpu(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, and cutime, cstime: the children it has reaped. A server that forks
    // short-lived workers (PostgreSQL's autovacuum) would otherwise hand their CPU to "other".
    return (Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function snapshot(pids: readonly number[]): Snapshot | null {
  try {
    const u = process.cpuUsage();
    const m = machineBusy();
    return {
      at: performance.now(),
      machine: m.busy,
      irq: m.irq,
      self: (u.user + u.system) / 1e6,
      servers: pids.reduce((sum, pid) => sum + processCpu(pid), 0),
    };
  } catch {
    return null;
  }
}

export function share(a: Snapshot | null, b: Snapshot | null): CpuShare | null {
  if (!a || !b || b.at <= a.at) return null;
  const seconds = (b.at - a.at) / 1000;
  const pct = (cpuSeconds: number): number => Math.max(0, Math.round((cpuSeconds / seconds) * 100));
  const client = b.self - a.self;
  const servers = b.servers - a.servers;
  return { client: pct(client), servers: pct(servers), other: pct(b.machine - a.machine - client - servers), irq: pct(b.irq - a.irq) };
}

/** Samples at the start and end of the window [startMs, startMs + lengthMs) from now. */
export function sampleWindow(pids: readonly number[], startMs: number, lengthMs: number): () => CpuShare | null {
  let first: Snapshot | null = null;
  let last: Snapshot | null = null;
  const t1 = setTimeout(() => { first = snapshot(pids); }, startMs);
  const t2 = setTimeout(() => { last = snapshot(pids); }, startMs + lengthMs);
  return () => {
    clearTimeout(t1);
    clearTimeout(t2);
    last ??= snapshot(pids);
    return share(first, last);
  };
}

/** CPU, in percent of one core, used outside `pids` over the next `ms`. Null without /proc. */
export async function otherLoad(pids: readonly number[], ms: number): Promise<number | null> {
  const a = snapshot(pids);
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = snapshot(pids);
  const s = share(a, b);
  // This process is the runner here, idle apart from the sampling: count it as ours.
  return s === null ? null : s.other;
}

/**
 * Waits, at most maxMs, until other processes use under thresholdPct of a
 * core for one whole second. Resolves with the last reading; the caller
 * proceeds either way, and the row's CPU columns show what happened.
 */
export async function waitForQuiet(pids: readonly number[], maxMs: number, thresholdPct: number): Promise<number | null> {
  const deadline = performance.now() + maxMs;
  let last = await otherLoad(pids, 1_000);
  while (last !== null && last >= thresholdPct && performance.now() < deadline) last = await otherLoad(pids, 1_000);
  return last;
}
