/**
 * Micro-benchmark of the tcp transport between two processes (not a test).
 *
 *   npx tsc -p . && node dist/runtime/transport/tcp/link-bench.js [durationMs] [rounds]
 *
 * This process plays node A, a child process node B. Messages are ~100 B.
 * For each setup it measures, for `durationMs` after a short warm-up:
 *   one-way  W=1, W=1000  messages/s A -> B with at most W unacknowledged
 *                         (B acks once per frame it reads, cumulatively)
 *   rr       W=1, W=1000  request/response round trips/s with W in flight, latency p50/p99
 *   sym-rr   W=1000       both nodes run rr against each other at once (total round trips/s)
 *   first                 ms from the first send on a cold transport to the first answer
 * Each rate comes with what one operation cost both processes together: CPU
 * time (user + system, from /proc/<pid>/stat), read/write system calls
 * (/proc/<pid>/io) and TCP segments on the wire (`ss -ti` segs_out). On a
 * machine shared with other work the rates swing with the neighbours' load;
 * the calls and segments per operation do not. Linux only.
 * Setups:
 *   shared        the engine as shipped: one link per pair, batching on
 *   per-direction each node dials its own outgoing link (two transports per
 *                 node: one sends, one listens), batching on
 *   unbatched     one link per pair, a frame per message (batching: false)
 * Setups run interleaved, `rounds` times (default 3); each cell is the median
 * round, so a burst of load from other processes on the machine skews one
 * round, not a whole column. Every loop ends by time; the child is stopped
 * by PID.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { PeerAddress, Transport } from '../transport.js';
import { TcpTransport } from './tcp-transport.js';

type Setup = 'shared' | 'per-direction' | 'unbatched';
const SECRET = 'link-bench-secret-0123456789';
const HOST = '127.0.0.1';
const PAD = 'x'.repeat(72); // {k, i, p} encodes to ~100 B
const quiet = () => {};

interface Side {
  /** Sends to the other node. */
  readonly out: Transport;
  /** Receives from the other node. */
  readonly inn: Transport;
  readonly listenPort: number;
  close(): Promise<void>;
}

async function makeSide(name: string, setup: Setup): Promise<Side> {
  const make = (id: string) => new TcpTransport({ nodeId: id, secret: SECRET, maxFrame: 16 << 20, log: quiet, batching: setup !== 'unbatched' });
  if (setup === 'per-direction') {
    const out = make(`${name}-out`);
    const inn = make(`${name}-in`);
    const listenPort = await inn.listen(HOST, 0);
    return { out, inn, listenPort, close: async () => void (await Promise.all([out.close(), inn.close()])) };
  }
  const t = make(name);
  const listenPort = await t.listen(HOST, 0);
  return { out: t, inn: t, listenPort, close: () => t.close() };
}

/** Where to send to reach `name` (its receiving transport). */
function target(name: string, setup: Setup, port: number): PeerAddress {
  return { id: setup === 'per-direction' ? `${name}-in` : name, address: HOST, linkPort: port };
}

interface Msg {
  readonly k: 'req' | 'res' | 'one' | 'ack';
  readonly i: number;
  /** Client generation: answers to a stopped client's requests must not feed the next one. */
  readonly g?: number;
  readonly p?: string;
}

/**
 * The behaviour both nodes share: answer requests, ack one-way messages once
 * per frame, and optionally run an rr client with W in flight.
 */
class Node {
  private oneWay = 0;
  private ackQueued = false;
  acked = 0;
  rtDone = 0;
  private client: { w: number; g: number; sentAt: Float64Array; samples: number[] } | undefined;
  private generation = 0;

  constructor(private readonly side: Side, private readonly peer: PeerAddress) {
    side.inn.onMessage((_from, message) => this.on(message as Msg));
  }

  private on(m: Msg): void {
    switch (m.k) {
      case 'req':
        this.side.out.send(this.peer, { k: 'res', i: m.i, g: m.g, p: m.p });
        return;
      case 'one':
        this.oneWay++;
        if (!this.ackQueued) {
          this.ackQueued = true;
          // After the frame is delivered: one cumulative ack per frame read.
          queueMicrotask(() => {
            this.ackQueued = false;
            this.side.out.send(this.peer, { k: 'ack', i: this.oneWay });
          });
        }
        return;
      case 'ack':
        this.acked = m.i;
        this.onAck?.();
        return;
      case 'res': {
        const c = this.client;
        if (c === undefined || m.g !== c.g) return;
        this.rtDone++;
        const slot = m.i % c.w;
        if (c.samples.length < 1_000_000) c.samples.push(performance.now() - c.sentAt[slot]!);
        c.sentAt[slot] = performance.now();
        this.side.out.send(this.peer, { k: 'req', i: m.i + c.w, g: c.g, p: PAD });
        return;
      }
    }
  }

  onAck: (() => void) | undefined;

  startClient(w: number): void {
    const c = (this.client = { w, g: ++this.generation, sentAt: new Float64Array(w), samples: [] as number[] });
    this.rtDone = 0;
    for (let i = 0; i < w; i++) {
      c.sentAt[i] = performance.now();
      this.side.out.send(this.peer, { k: 'req', i, g: c.g, p: PAD });
    }
  }

  /** Stops issuing requests (answers still in flight are ignored); returns the latency samples. */
  stopClient(): number[] {
    const samples = this.client?.samples ?? [];
    this.client = undefined;
    return samples;
  }
}

// ---------- child: node B ----------

async function child(setup: Setup, aPort: number): Promise<void> {
  const side = await makeSide('B', setup);
  const node = new Node(side, target('A', setup, aPort));
  const rl = createInterface({ input: process.stdin });
  process.stdout.write(JSON.stringify({ event: 'ready', port: side.listenPort }) + '\n');
  for await (const line of rl) {
    const cmd = JSON.parse(line) as { cmd: 'client-start' | 'client-stop' | 'count' | 'exit'; w?: number };
    if (cmd.cmd === 'client-start') node.startClient(cmd.w!);
    else if (cmd.cmd === 'count') process.stdout.write(JSON.stringify({ event: 'count', rt: node.rtDone }) + '\n');

    else if (cmd.cmd === 'client-stop') {
      node.stopClient();
      process.stdout.write(JSON.stringify({ event: 'client', rt: node.rtDone }) + '\n');
    } else break;
  }
  rl.close();
  await side.close();
}

// ---------- parent: node A ----------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** TCP segments sent so far on every established connection touching `ports` (both ends of each). */
function segments(ports: readonly number[]): number {
  const filter = `( ${ports.map((p) => `sport = :${p} or dport = :${p}`).join(' or ')} )`;
  const out = execFileSync('ss', ['-tinH', 'state', 'established', filter], { encoding: 'utf8' });
  let total = 0;
  for (const m of out.matchAll(/segs_out:(\d+)/g)) total += Number(m[1]);
  return total;
}

function pct(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** One cell: a rate and, for rr, latency percentiles (ms). */
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

async function runSetup(setup: Setup, durationMs: number): Promise<Record<string, Cell>> {
  const side = await makeSide('A', setup);
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', setup, String(side.listenPort)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  const rl = createInterface({ input: proc.stdout! });
  rl.on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  const waitLine = async (event: string, after: number) => {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const found = lines.slice(after).find((l) => l.event === event);
      if (found !== undefined) return found;
      await sleep(5);
    }
    throw new Error(`child did not report ${event}`);
  };
  const results: Record<string, Cell> = {};
  try {
    const { port } = (await waitLine('ready', 0)) as { port: number };
    const ports = [side.listenPort, port];
    const cost = () => {
      let cpu = 0;
      let calls = 0;
      for (const pid of [process.pid, proc.pid!]) {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpu += ((Number(f[11]) + Number(f[12])) / TICKS) * 1e6; // utime + stime, all threads
        const io = readFileSync(`/proc/${pid}/io`, 'utf8');
        calls += Number(/syscr: (\d+)/.exec(io)![1]) + Number(/syscw: (\d+)/.exec(io)![1]);
      }
      return { cpu, calls, segs: segments(ports) };
    };
    /** Ops/s and CPU µs/op over `durationMs` of a running workload. */
    const measure = async (count: () => number | Promise<number>) => {
      const c0 = cost();
      const n0 = await count();
      const t0 = performance.now();
      await sleep(durationMs);
      const n1 = await count();
      const t1 = performance.now();
      const c1 = cost();
      const ops = Math.max(1, n1 - n0);
      return { rate: ((n1 - n0) / (t1 - t0)) * 1000, cpu: (c1.cpu - c0.cpu) / ops, calls: (c1.calls - c0.calls) / ops, segs: (c1.segs - c0.segs) / ops };
    };
    const peer = target('B', setup, port);
    const node = new Node(side, peer);

    // Cold start: first request to first answer, including connect and handshake(s).
    const t0 = performance.now();
    node.startClient(1);
    while (node.rtDone === 0 && performance.now() - t0 < 5000) await sleep(0);
    node.stopClient();
    results.first = { rate: performance.now() - t0, unit: 'ms' };
    await sleep(200);

    for (const w of [1, 1000]) {
      // one-way with a window of w unacknowledged messages
      // B's ack counts every one-way message it ever got; earlier workloads have settled (the pauses below).
      let sent = node.acked;
      let stop = false;
      const pump = () => {
        if (stop) return;
        const room = w - (sent - node.acked);
        for (let j = 0; j < room; j++) side.out.send(peer, { k: 'one', i: sent++, p: PAD });
      };
      node.onAck = pump;
      pump();
      await sleep(500);
      const oneWay = await measure(() => node.acked);
      stop = true;
      node.onAck = undefined;
      results[`one-way W=${w}`] = { ...oneWay, unit: 'msg/s' };
      await sleep(200);

      // request/response with w in flight
      node.startClient(w);
      await sleep(500);
      node.stopClient();
      node.startClient(w);
      const rr = await measure(() => node.rtDone);
      const samples = node.stopClient();
      results[`rr W=${w}`] = { ...rr, unit: 'rt/s', p50: pct(samples, 50), p99: pct(samples, 99) };
      await sleep(300);
    }

    // symmetric rr: both nodes are clients and servers at once
    const w = 1000;
    const mark = lines.length;
    proc.stdin!.write(JSON.stringify({ cmd: 'client-start', w }) + '\n');
    node.startClient(w);
    await sleep(500);
    const theirCount = async () => {
      const at = lines.length;
      proc.stdin!.write(JSON.stringify({ cmd: 'count' }) + '\n');
      return ((await waitLine('count', at)) as { rt: number }).rt;
    };
    const m = await measure(async () => node.rtDone + (await theirCount()));
    node.stopClient();
    proc.stdin!.write(JSON.stringify({ cmd: 'client-stop' }) + '\n');
    await waitLine('client', mark);
    results[`sym-rr W=${w}`] = { ...m, unit: 'rt/s' };
  } finally {
    proc.stdin!.write(JSON.stringify({ cmd: 'exit' }) + '\n');
    const exited = new Promise((r) => proc.once('exit', r));
    if ((await Promise.race([exited, sleep(3000).then(() => 'timeout')])) === 'timeout') proc.kill('SIGKILL');
    rl.close();
    await side.close();
  }
  return results;
}

function median(cells: readonly Cell[]): Cell {
  const sorted = [...cells].sort((a, b) => a.rate - b.rate);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function show(c: Cell | undefined): string {
  if (c === undefined) return '';
  if (c.unit === 'ms') return `${c.rate.toFixed(1)} ms`;
  const per = c.cpu === undefined ? '' : ` [per op: ${c.cpu.toFixed(2)} µs CPU, ${c.calls!.toFixed(2)} syscalls, ${c.segs!.toFixed(3)} segments]`;
  const rate = `${Math.round(c.rate).toLocaleString('en')} ${c.unit}${per}`;
  return c.p50 === undefined ? rate : `${rate} (p50 ${c.p50.toFixed(3)} ms, p99 ${c.p99!.toFixed(3)} ms)`;
}

async function main(): Promise<void> {
  const durationMs = Number(process.argv[2] ?? 3000);
  const rounds = Number(process.argv[3] ?? 3);
  const setups: Setup[] = ['shared', 'per-direction', 'unbatched'];
  const runs: Record<string, Record<string, Cell>[]> = { shared: [], 'per-direction': [], unbatched: [] };
  for (let round = 1; round <= rounds; round++) {
    for (const setup of setups) {
      process.stderr.write(`[link-bench] round ${round}/${rounds}, ${setup} (${durationMs} ms per workload)\n`);
      const r = await runSetup(setup, durationMs);
      runs[setup]!.push(r);
      process.stderr.write(`[link-bench]   ${Object.entries(r).map(([k, c]) => `${k}: ${show(c)}`).join('; ')}\n`);
    }
  }
  const rows = Object.keys(runs.shared![0]!);
  console.log(`median of ${rounds} rounds, ${durationMs} ms per workload, ~100 B messages`);
  console.log(['workload', ...setups].join(' | '));
  for (const row of rows) console.log([row, ...setups.map((s) => show(median(runs[s]!.map((r) => r[row]!))))].join(' | '));
}

if (process.argv[2] === '--child') await child(process.argv[3] as Setup, Number(process.argv[4]));
else await main();
