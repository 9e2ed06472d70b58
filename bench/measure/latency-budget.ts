/**
 * The latency budget: where one call's time goes at 1 in flight.
 *
 *   node dist/bench/measure/latency-budget.js [--calls 20000] [--client sdk|ws-batch]
 *
 * Starts one node (embedded grid, Counter example) with TROUPE_TRACE_LATENCY=1
 * (runtime/metrics/latency-trace.ts stamps each call at every stage), makes
 * `--calls` Counter.add calls one at a time from this process, measuring each
 * round trip, then stops the node, which logs its per-stage percentiles. The
 * client's share (its encode and decode, both socket hops, the event-loop
 * wake-ups) is the round trip minus the node's total. Prints a table and one
 * JSON line. Bounded: at most 120 s of calls.
 *
 * A second table gives what the timed calls cost each thread (lib/thread-cpu.ts):
 * the node's main thread, its threads woken on most calls (the pool's workers),
 * its other threads (V8's GC helpers, libuv) and this process (the client).
 */
import { fileURLToPath } from 'node:url';
import { open as openWsBatch } from '../drivers/ws-batch.js';
import { open as openSdk } from '../drivers/troupe-sdk.js';
import { startCounterNode } from '../lib/troupe-node.js';
import { perCall, threadDelta, threadSnapshot, type PerCall, type ThreadAccount } from '../lib/thread-cpu.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const LIMIT_MS = 120_000;

function args(): { calls: number; client: 'sdk' | 'ws-batch' } {
  const out: { calls: number; client: 'sdk' | 'ws-batch' } = { calls: 20_000, client: 'sdk' };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--calls' && Number.isInteger(Number(argv[i + 1])) && Number(argv[i + 1]) > 0) out.calls = Number(argv[i + 1]);
    else if (argv[i] === '--client' && (argv[i + 1] === 'sdk' || argv[i + 1] === 'ws-batch')) out.client = argv[i + 1] as 'sdk' | 'ws-batch';
    else throw new TypeError(`usage: [--calls N] [--client sdk|ws-batch], got ${argv[i]} ${argv[i + 1]}`);
  }
  return out;
}

interface Spread { p50: number; p99: number; mean: number }

/** A thread woken on at least this share of the calls is counted as one the call path uses (a pool worker). */
const WOKEN_PER_CALL = 0.25;

/** The node's threads, then the client's, per timed call; null without /proc. */
function threadRows(nodePid: number, node: ThreadAccount[] | null, client: ThreadAccount[] | null, calls: number): [string, PerCall][] | null {
  if (node === null || client === null || calls === 0) return null;
  const main = node.filter((t) => t.tid === nodePid);
  const rest = node.filter((t) => t.tid !== nodePid);
  const woken = rest.filter((t) => t.sleeps / calls >= WOKEN_PER_CALL);
  const other = rest.filter((t) => t.sleeps / calls < WOKEN_PER_CALL);
  return [
    ['node main thread', perCall(main, calls)],
    [`node threads woken per call (pool workers: ${woken.length})`, perCall(woken, calls)],
    [`node other threads (${other.length}: V8 GC helpers, libuv)`, perCall(other, calls)],
    ['client process (all threads)', perCall(client, calls)],
  ];
}

function spread(us: number[]): Spread {
  const s = [...us].sort((a, b) => a - b);
  const at = (q: number): number => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 10) / 10;
  return { p50: at(0.5), p99: at(0.99), mean: Math.round((us.reduce((a, b) => a + b, 0) / us.length) * 10) / 10 };
}

async function main(): Promise<void> {
  const o = args();
  const node = await startCounterNode(ROOT, [], { TROUPE_TRACE_LATENCY: '1' });
  let rtt: number[] = [];
  let threads: [string, PerCall][] | null = null;
  let budget: { calls: number; stages: Record<string, Spread>; total: Spread } | undefined;
  try {
    const url = node.url;
    const caller = o.client === 'sdk' ? await openSdk({ name: 'troupe-sdk', url }) : await openWsBatch({ name: 'ws-batch', url });
    const deadline = Date.now() + LIMIT_MS;
    // Warm-up, not recorded by this side (the node's budget includes it, 2,000 of many thousand calls): long
    // enough that V8 has compiled the hot path, so its compiler threads do not show in the per-thread table.
    for (let i = 0; i < 2000; i++) await caller.call(`warm-${i % 100}`);
    const nodeBefore = threadSnapshot(node.pid);
    const clientBefore = threadSnapshot(process.pid);
    for (let i = 0; i < o.calls && Date.now() < deadline; i++) {
      const t0 = performance.now();
      await caller.call(`budget-${i % 1000}`);
      rtt.push((performance.now() - t0) * 1000);
    }
    const nodeAfter = threadSnapshot(node.pid);
    const clientAfter = threadSnapshot(process.pid);
    threads = threadRows(
      node.pid,
      nodeBefore && nodeAfter && threadDelta(nodeBefore, nodeAfter),
      clientBefore && clientAfter && threadDelta(clientBefore, clientAfter),
      rtt.length,
    );
    await caller.close();
  } finally {
    await node.stop();
  }
  for (const line of node.tail().split('\n')) {
    if (!line.includes('"latency_budget"')) continue;
    budget = JSON.parse(line) as typeof budget;
  }
  if (budget === undefined) throw new Error(`the node logged no latency_budget line:\n${node.tail()}`);
  const round = spread(rtt);
  const rows: [string, Spread][] = Object.entries(budget.stages);
  rows.push(['node total (frame in → reply sent)', budget.total]);
  const clientShare = { p50: Math.round((round.p50 - budget.total.p50) * 10) / 10, p99: NaN, mean: Math.round((round.mean - budget.total.mean) * 10) / 10 };
  rows.push([`client + sockets (round trip − node total; ${o.client} client)`, clientShare]);
  rows.push(['round trip at the client', round]);
  const w = Math.max(...rows.map(([n]) => n.length));
  const f = (n: number): string => (Number.isNaN(n) ? '-' : n.toFixed(1)).padStart(9);
  const out = [`Latency budget at 1 in flight, ${rtt.length} Counter.add calls (${o.client} client), µs:`, `${'stage'.padEnd(w)}  ${'p50'.padStart(9)}  ${'p99'.padStart(9)}  ${'mean'.padStart(9)}`];
  for (const [name, s] of rows) out.push(`${name.padEnd(w)}  ${f(s.p50)}  ${f(s.p99)}  ${f(s.mean)}`);
  if (threads !== null) {
    const tw = Math.max(...threads.map(([n]) => n.length));
    const heads = ['CPU µs', 'run queue µs', 'sleeps', 'preempted'];
    out.push('', `Per call, by thread (scheduler accounting over the ${rtt.length} timed calls):`, `${'thread'.padEnd(tw)}  ${heads.map((h) => h.padStart(12)).join('  ')}`);
    for (const [name, t] of threads) out.push(`${name.padEnd(tw)}  ${[t.cpuUs, t.runQueueUs, t.sleeps, t.preempted].map((n) => String(n).padStart(12)).join('  ')}`);
  }
  const threadsJson = threads === null ? null : Object.fromEntries(threads);
  process.stdout.write(`${out.join('\n')}\n${JSON.stringify({ event: 'latency_budget', client: o.client, calls: rtt.length, node: budget, roundTrip: round, threads: threadsJson })}\n`);
}

await main();
process.exit(0);
