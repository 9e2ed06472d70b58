/**
 * What pending reminders cost one node: `npm run bench:reminders`.
 *
 *   node --expose-gc dist/bench/reminders/main.js [--reminders 100000] [--tickers 1000] [--fire 20000] [--idle MS]
 *
 * Starts one node (embedded grid) with the Ticker example, then:
 * 1. schedules `--reminders` one-shot reminders, due in an hour, spread over
 *    `--tickers` actors, and reports the schedule rate, the node's RSS and
 *    heap before and after (per reminder), and its CPU over 10 s idle with
 *    all of them pending (one timer for all: nothing should tick);
 * 2. schedules `--fire` more, all due in the same second a few seconds
 *    ahead, and reports how long after that second every one had fired.
 *
 * The node runs in this process (with the client, which holds nothing per
 * reminder), so the heap can be measured after a full collection: run with
 * `node --expose-gc`. The embedded grid keeps the records in the node's own
 * heap, so the figures include the records (state and reminder table per
 * Ticker), the wake index and the node's clock; on Hazelcast the records
 * live on the members. Worker threads' heaps are not in `heapUsed`; RSS
 * (whole process) is reported too. Bounded: every phase has a deadline. One
 * JSON line at the end.
 */
import { fileURLToPath } from 'node:url';
import { connect, type TroupeClient } from '../../client/index.js';
import { loadConfig } from '../../runtime/config.js';
import { TroupeNode } from '../../runtime/node.js';

const TICKER = fileURLToPath(new URL('../../examples/ticker/ticker.js', import.meta.url));

function args(): { reminders: number; tickers: number; fire: number; idle: number } {
  const out = { reminders: 100_000, tickers: 1000, fire: 20_000, idle: 3_600_000 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!.replace(/^--/, '') as keyof typeof out;
    const v = Number(argv[i + 1]);
    if (!(name in out) || !Number.isInteger(v) || v < 1) throw new TypeError(`usage: [--reminders N] [--tickers N] [--fire N] [--idle MS], got ${argv[i]} ${argv[i + 1]}`);
    out[name] = v;
  }
  return out;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Heap and RSS after a full collection, MB. */
function memory(): { heap: number; rss: number; buffers: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  // Records are bytes (Uint8Array): outside the JS heap, in `arrayBuffers`.
  return { heap: m.heapUsed / 2 ** 20, rss: m.rss / 2 ** 20, buffers: m.arrayBuffers / 2 ** 20 };
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function inParallel(n: number, limit: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, n) }, async () => {
    while (next < n) await fn(next++);
  }));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (m: string): void => void process.stderr.write(`[reminders] ${m}\n`);

async function main(): Promise<void> {
  const o = args();
  if (gc === undefined) say('run with node --expose-gc for heap figures after a full collection');
  // --idle: with the default of this script (an hour) actors stay active, so the figures include what a node keeps
  // per live actor; with a short one they are forgotten after scheduling, as idle actors are, and their reminders wait in the clock.
  const node = await TroupeNode.start(loadConfig(['--port', '0', '--actors', TICKER, '--idle', String(o.idle), '--log-level', 'warn'], {}));
  let client: TroupeClient | undefined;
  try {
    client = await connect({ url: `ws://127.0.0.1:${node.port}/v1/ws`, timeout: 30_000 });
    // Every Ticker exists before the baseline, so the delta is the reminders' own cost.
    await inParallel(o.tickers, 200, (t) => client!.call('Ticker', `b${t}`, 'pending', []));
    await sleep(2000);
    await sleep(Math.min(o.idle, 60_000) * 2);
    const before = memory();
    const idle0 = cpuSeconds();
    await sleep(10_000);
    const idleCpuBeforePct = ((cpuSeconds() - idle0) / 10) * 100;
    say(`${before.rss.toFixed(1)} MB RSS, ${before.heap.toFixed(1)} MB heap with ${o.tickers} idle Tickers; idle CPU ${idleCpuBeforePct.toFixed(2)}% of a core`);

    const t0 = Date.now();
    const per = Math.ceil(o.reminders / o.tickers);
    await inParallel(o.reminders, 500, (i) => client!.call('Ticker', `b${i % o.tickers}`, 'schedule', [`r${Math.floor(i / o.tickers)}`, 3_600_000]));
    const scheduleMs = Date.now() - t0;
    say(`scheduled ${o.reminders} reminders (${per} per Ticker) in ${scheduleMs} ms: ${Math.round(o.reminders / (scheduleMs / 1000))}/s`);
    await sleep(Math.max(3000, Math.min(o.idle, 60_000) * 2 + 1000));
    const after = memory();
    const cpu0 = cpuSeconds();
    await sleep(10_000);
    const idleCpuPct = ((cpuSeconds() - cpu0) / 10) * 100;
    say(`with ${o.reminders} pending: ${after.rss.toFixed(1)} MB RSS (+${(after.rss - before.rss).toFixed(1)}), ${after.heap.toFixed(1)} MB heap (+${(after.heap - before.heap).toFixed(1)}), idle CPU ${idleCpuPct.toFixed(2)}% of a core`);

    // Phase 2: a burst, all due in the same second.
    const tickers = Math.min(o.tickers, o.fire);
    const dueAt = Date.now() + 8000 + Math.ceil(o.fire / 2000) * 1000;
    await inParallel(o.fire, 500, (i) => client!.call('Ticker', `f${i % tickers}`, 'schedule', [`burst${Math.floor(i / tickers)}`, Math.max(1, dueAt - Date.now() + (i % 1000))]));
    await sleep(Math.max(0, dueAt + 1000 - Date.now()));
    let fired = 0;
    let allFiredMs = -1;
    const deadline = dueAt + 120_000;
    while (Date.now() < deadline) {
      fired = 0;
      await inParallel(tickers, 200, async (t) => {
        const f = (await client!.call('Ticker', `f${t}`, 'fired', [])) as Record<string, number>;
        fired += Object.values(f).reduce((a, b) => a + b, 0);
      });
      if (fired >= o.fire) {
        allFiredMs = Date.now() - (dueAt + 1000);
        break;
      }
      await sleep(500);
    }
    say(allFiredMs < 0 ? `burst: only ${fired} of ${o.fire} fired within 120 s` : `burst: all ${o.fire} reminders due within one second had fired ${allFiredMs} ms after that second (read-back included)`);
    console.log(JSON.stringify({
      event: 'reminders_bench',
      reminders: o.reminders,
      tickers: o.tickers,
      idleMs: o.idle,
      scheduleRatePerSecond: Math.round(o.reminders / (scheduleMs / 1000)),
      rssMbBefore: +before.rss.toFixed(1),
      rssMbAfter: +after.rss.toFixed(1),
      heapMbBefore: +before.heap.toFixed(1),
      heapMbAfter: +after.heap.toFixed(1),
      buffersMbBefore: +before.buffers.toFixed(1),
      buffersMbAfter: +after.buffers.toFixed(1),
      heapBytesPerReminder: Math.round(((after.heap - before.heap) * 2 ** 20) / o.reminders),
      bufferBytesPerReminder: Math.round(((after.buffers - before.buffers) * 2 ** 20) / o.reminders),
      idleCpuPercentOfCoreBefore: +idleCpuBeforePct.toFixed(2),
      idleCpuPercentOfCore: +idleCpuPct.toFixed(2),
      burst: o.fire,
      burstAllFiredAfterMs: allFiredMs,
    }));
  } finally {
    await client?.close().catch(() => {});
    await node.stop();
  }
}

await main();
process.exit(0);
