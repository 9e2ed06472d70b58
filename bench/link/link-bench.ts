/**
 * Micro-benchmark of the tcp transport between two processes (not a test).
 *
 *   npx tsc -p . && node dist/bench/link/link-bench.js [table|ab] [durationMs] [rounds]
 *
 * This process plays node A, a child process node B (link-bench-node.ts).
 * Messages are ~100 B. Workloads, each measured for `durationMs` after a
 * short warm-up:
 *   first                 ms from the first send on a cold transport to the first answer
 *   one-way  W=1, W=1000  messages/s A -> B with at most W unacknowledged
 *                         (B acks once per frame it reads, cumulatively)
 *   rr       W=1, W=1000  request/response round trips/s with W in flight, latency p50/p99
 *   sym-rr   W=1000       both nodes run rr against each other at once (round trips/s, both)
 * Setups:
 *   shared         the engine as shipped: one link per pair, batching on
 *   per-direction  each node dials its own outgoing link (two transports per
 *                  node: one sends, one listens), batching on
 *   unbatched      one link per pair, a frame per message (batching: false)
 * Every rate comes with what one operation cost both processes together:
 * CPU time (user + system of all threads, /proc/<pid>/stat), read/write
 * system calls (/proc/<pid>/io) and TCP segments (`ss -ti` segs_out, both
 * ends). Rates swing with the load other processes put on the machine; calls
 * and segments per operation do not. Linux only.
 *
 * `table` runs every workload per setup, setups interleaved, `rounds` times,
 * and prints the median round per cell. `ab` keeps a shared and a
 * per-direction pair alive side by side and alternates short rr windows
 * between them `rounds` times, so both see the same load; it prints medians
 * and the median per-window ratio. Every loop ends by time or count; the
 * children are stopped by PID.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BenchNode, makeSide, PAD, runChild, SETUPS, target, type Setup, type Side } from './link-bench-node.js';

interface Cell {
  readonly rate: number;
  readonly unit: string;
  /** Per operation, both processes together: CPU µs, read+write system calls, TCP segments. */
  readonly cpu?: number;
  readonly calls?: number;
  readonly segs?: number;
  readonly p50?: number;
  readonly p99?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const WARM_MS = 300;

/** TCP segments sent so far on every established connection touching `ports` (both ends of each). */
function segments(ports: readonly number[]): number {
  const filter = `( ${ports.map((p) => `sport = :${p} or dport = :${p}`).join(' or ')} )`;
  const out = execFileSync('ss', ['-tinH', 'state', 'established', filter], { encoding: 'utf8' });
  let total = 0;
  for (const m of out.matchAll(/segs_out:(\d+)/g)) total += Number(m[1]);
  return total;
}

function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Node A in this process, node B in a child, for one setup. */
class Pair {
  private readonly ports: number[];

  private constructor(
    readonly setup: Setup,
    readonly side: Side,
    readonly node: BenchNode,
    private readonly proc: ChildProcess,
    private readonly lines: Record<string, unknown>[],
    childPort: number,
  ) {
    this.ports = [side.listenPort, childPort];
  }

  static async start(setup: Setup): Promise<Pair> {
    const side = await makeSide('A', setup);
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', setup, String(side.listenPort)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: proc.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
    const deadline = Date.now() + 10_000;
    while (!lines.some((l) => l.event === 'ready')) {
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error('bench child did not start');
      }
      await sleep(5);
    }
    const port = lines.find((l) => l.event === 'ready')!.port as number;
    return new Pair(setup, side, new BenchNode(side, target('B', setup, port)), proc, lines, port);
  }

  /** Sends a command to the child and waits for its answer line. */
  async ask(cmd: Record<string, unknown>, answer: string): Promise<Record<string, unknown>> {
    const from = this.lines.length;
    this.proc.stdin!.write(JSON.stringify(cmd) + '\n');
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = this.lines.slice(from).find((l) => l.event === answer);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`bench child did not answer ${answer}`);
      await sleep(1);
    }
  }

  private cost(): { cpu: number; calls: number; segs: number } {
    let cpu = 0;
    let calls = 0;
    for (const pid of [process.pid, this.proc.pid!]) {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpu += ((Number(f[11]) + Number(f[12])) / TICKS) * 1e6; // utime + stime, µs
      const io = readFileSync(`/proc/${pid}/io`, 'utf8');
      calls += Number(/syscr: (\d+)/.exec(io)![1]) + Number(/syscw: (\d+)/.exec(io)![1]);
    }
    return { cpu, calls, segs: segments(this.ports) };
  }

  /** Operations/s and the cost of one over `durationMs` of a running workload. */
  async measure(durationMs: number, count: () => number | Promise<number>): Promise<Omit<Cell, 'unit'>> {
    const c0 = this.cost();
    const n0 = await count();
    const t0 = performance.now();
    await sleep(durationMs);
    const n1 = await count();
    const t1 = performance.now();
    const c1 = this.cost();
    const ops = Math.max(1, n1 - n0);
    return { rate: ((n1 - n0) / (t1 - t0)) * 1000, cpu: (c1.cpu - c0.cpu) / ops, calls: (c1.calls - c0.calls) / ops, segs: (c1.segs - c0.segs) / ops };
  }

  async close(): Promise<void> {
    this.proc.stdin!.write(JSON.stringify({ cmd: 'exit' }) + '\n');
    const exited = new Promise((r) => this.proc.once('exit', r));
    if ((await Promise.race([exited, sleep(3000).then(() => 'timeout')])) === 'timeout') this.proc.kill('SIGKILL');
    await this.side.close();
  }
}

async function first(pair: Pair): Promise<Cell> {
  const t0 = performance.now();
  pair.node.startClient(1);
  while (pair.node.rtDone === 0 && performance.now() - t0 < 5000) await sleep(0);
  pair.node.stopClient();
  const ms = performance.now() - t0;
  await sleep(100);
  return { rate: ms, unit: 'ms' };
}

async function oneWay(pair: Pair, w: number, durationMs: number): Promise<Cell> {
  const { node } = pair;
  // B's ack counts every one-way message it ever got; earlier workloads have settled.
  let sent = node.acked;
  let stop = false;
  const pump = () => {
    if (stop) return;
    const room = w - (sent - node.acked);
    for (let j = 0; j < room; j++) node.send({ k: 'one', i: sent++, p: PAD });
  };
  node.onAck = pump;
  pump();
  await sleep(WARM_MS);
  const m = await pair.measure(durationMs, () => node.acked);
  stop = true;
  node.onAck = undefined;
  await sleep(100);
  return { ...m, unit: 'msg/s' };
}

async function rr(pair: Pair, w: number, durationMs: number): Promise<Cell> {
  pair.node.startClient(w);
  await sleep(WARM_MS);
  const m = await pair.measure(durationMs, () => pair.node.rtDone);
  const samples = pair.node.stopClient();
  await sleep(100);
  return { ...m, unit: 'rt/s', p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

async function symRr(pair: Pair, w: number, durationMs: number): Promise<Cell> {
  await pair.ask({ cmd: 'client-start', w }, 'client-started');
  pair.node.startClient(w);
  await sleep(WARM_MS);
  const m = await pair.measure(durationMs, async () => pair.node.rtDone + ((await pair.ask({ cmd: 'count' }, 'count')).rt as number));
  pair.node.stopClient();
  await pair.ask({ cmd: 'client-stop' }, 'client-stopped');
  await sleep(100);
  return { ...m, unit: 'rt/s' };
}

function show(c: Cell | undefined): string {
  if (c === undefined) return '';
  if (c.unit === 'ms') return `${c.rate.toFixed(1)} ms`;
  const per = c.cpu === undefined ? '' : ` [per op: ${c.cpu.toFixed(2)} µs CPU, ${c.calls!.toFixed(2)} syscalls, ${c.segs!.toFixed(3)} segments]`;
  const latency = c.p50 === undefined ? '' : ` (p50 ${c.p50.toFixed(3)} ms, p99 ${c.p99!.toFixed(3)} ms)`;
  return `${Math.round(c.rate).toLocaleString('en')} ${c.unit}${per}${latency}`;
}

async function table(durationMs: number, rounds: number): Promise<void> {
  const runs = new Map<Setup, Record<string, Cell>[]>(SETUPS.map((s) => [s, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const setup of SETUPS) {
      process.stderr.write(`[link-bench] round ${round}/${rounds}: ${setup}\n`);
      const pair = await Pair.start(setup);
      try {
        const r: Record<string, Cell> = { first: await first(pair) };
        for (const w of [1, 1000]) {
          r[`one-way W=${w}`] = await oneWay(pair, w, durationMs);
          r[`rr W=${w}`] = await rr(pair, w, durationMs);
        }
        r['sym-rr W=1000'] = await symRr(pair, 1000, durationMs);
        runs.get(setup)!.push(r);
        process.stderr.write(`[link-bench]   ${Object.entries(r).map(([k, c]) => `${k}: ${show(c)}`).join('; ')}\n`);
      } finally {
        await pair.close();
      }
    }
  }
  const rows = Object.keys(runs.get('shared')![0]!);
  console.log(`median round of ${rounds}, ${durationMs} ms per workload, ~100 B messages`);
  console.log(['workload', ...SETUPS].join(' | '));
  for (const row of rows) {
    const cells = SETUPS.map((s) => {
      const all = runs.get(s)!.map((r) => r[row]!);
      const mid = median(all.map((c) => c.rate));
      return show(all.find((c) => c.rate === mid));
    });
    console.log([row, ...cells].join(' | '));
  }
}

async function ab(durationMs: number, rounds: number): Promise<void> {
  const pairs = { shared: await Pair.start('shared'), 'per-direction': await Pair.start('per-direction') };
  const workloads: [string, (p: Pair) => Promise<Cell>][] = [
    ['rr W=1', (p) => rr(p, 1, durationMs)],
    ['rr W=1000', (p) => rr(p, 1000, durationMs)],
    ['sym-rr W=1000', (p) => symRr(p, 1000, durationMs)],
  ];
  const cells = new Map<string, { shared: Cell[]; 'per-direction': Cell[] }>(workloads.map(([name]) => [name, { shared: [], 'per-direction': [] }]));
  try {
    for (const p of Object.values(pairs)) await first(p);
    // One discarded pass: the first windows otherwise measure JIT compilation, not the link.
    for (const [, run] of workloads) for (const p of Object.values(pairs)) await run(p);
    for (let round = 1; round <= rounds; round++) {
      process.stderr.write(`[link-bench] ab window ${round}/${rounds}\n`);
      // Alternate which setup goes first, so neither always runs right after the other's load.
      const order = round % 2 === 1 ? (['shared', 'per-direction'] as const) : (['per-direction', 'shared'] as const);
      for (const [name, run] of workloads) {
        for (const s of order) {
          const cell = await run(pairs[s]);
          cells.get(name)![s].push(cell);
          process.stderr.write(`[link-bench]   ${name} ${s}: ${show(cell)}\n`);
        }
      }
    }
  } finally {
    await Promise.all(Object.values(pairs).map((p) => p.close()));
  }
  console.log(`ab: ${rounds} alternating windows of ${durationMs} ms, medians; ratio = per-direction / shared, median of per-window ratios`);
  console.log('workload | shared | per-direction | ratio rate | ratio CPU/op | ratio segments/op');
  for (const [name, { shared, 'per-direction': pd }] of cells) {
    const med = (cs: Cell[]): Cell => ({
      rate: median(cs.map((c) => c.rate)),
      unit: cs[0]!.unit,
      cpu: median(cs.map((c) => c.cpu!)),
      calls: median(cs.map((c) => c.calls!)),
      segs: median(cs.map((c) => c.segs!)),
      ...(cs[0]!.p50 === undefined ? {} : { p50: median(cs.map((c) => c.p50!)), p99: median(cs.map((c) => c.p99!)) }),
    });
    const ratio = (f: (c: Cell) => number) => median(shared.map((c, i) => f(pd[i]!) / f(c))).toFixed(2);
    console.log([name, show(med(shared)), show(med(pd)), ratio((c) => c.rate), ratio((c) => c.cpu!), ratio((c) => c.segs!)].join(' | '));
  }
}

if (process.argv[2] === '--child') {
  await runChild(process.argv[3] as Setup, Number(process.argv[4]));
} else {
  const mode = process.argv[2] ?? 'table';
  const durationMs = Number(process.argv[3] ?? (mode === 'ab' ? 1000 : 3000));
  const rounds = Number(process.argv[4] ?? (mode === 'ab' ? 10 : 3));
  if (mode === 'ab') await ab(durationMs, rounds);
  else await table(durationMs, rounds);
}
