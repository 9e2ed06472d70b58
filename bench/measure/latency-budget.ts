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
 */
import { fileURLToPath } from 'node:url';
import { open as openWsBatch } from '../drivers/ws-batch.js';
import { open as openSdk } from '../drivers/troupe-sdk.js';
import { startCounterNode } from '../lib/troupe-node.js';

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

function spread(us: number[]): Spread {
  const s = [...us].sort((a, b) => a - b);
  const at = (q: number): number => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 10) / 10;
  return { p50: at(0.5), p99: at(0.99), mean: Math.round((us.reduce((a, b) => a + b, 0) / us.length) * 10) / 10 };
}

async function main(): Promise<void> {
  const o = args();
  const node = await startCounterNode(ROOT, [], { TROUPE_TRACE_LATENCY: '1' });
  let rtt: number[] = [];
  let budget: { calls: number; stages: Record<string, Spread>; total: Spread } | undefined;
  try {
    const url = node.url;
    const caller = o.client === 'sdk' ? await openSdk({ name: 'troupe-sdk', url }) : await openWsBatch({ name: 'ws-batch', url });
    const deadline = Date.now() + LIMIT_MS;
    // Warm-up, not recorded by this side (the node's budget includes it: a few hundred of many thousand calls).
    for (let i = 0; i < 500; i++) await caller.call(`warm-${i % 100}`);
    for (let i = 0; i < o.calls && Date.now() < deadline; i++) {
      const t0 = performance.now();
      await caller.call(`budget-${i % 1000}`);
      rtt.push((performance.now() - t0) * 1000);
    }
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
  process.stdout.write(`${out.join('\n')}\n${JSON.stringify({ event: 'latency_budget', client: o.client, calls: rtt.length, node: budget, roundTrip: round })}\n`);
}

await main();
process.exit(0);
