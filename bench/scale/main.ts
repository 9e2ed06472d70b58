/**
 * What scale costs one node: `npm run bench:scale`.
 *
 *   node dist/bench/scale/main.js [--activations 100000] [--connections 10000]
 *
 * Starts one node (bin/troupe.js start, embedded grid, the Counter example)
 * as a process of its own, then measures its resident memory (VmRSS):
 * 1. after `--activations` distinct Counter keys were each called once (so
 *    each is a live activation: idle sweep off for the run), per activation;
 *    the embedded grid keeps the records in the same process, so the figure
 *    includes each key's record (on Hazelcast they live on the members);
 * 2. with `--connections` idle WebSocket connections open from this process
 *    (each made one call, so it is a real session), per connection.
 * RSS is sampled after a settle pause (no forced collection in the node, so
 * some garbage may be counted: the figures are upper bounds). Bounded: every
 * phase has a deadline. Prints a summary and one JSON line.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { Packr, Unpackr } from 'msgpackr';
import { open as openWsBatch } from '../drivers/ws-batch.js';
import { startCounterNode } from '../lib/troupe-node.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const PHASE_LIMIT_MS = 180_000;
const SETTLE_MS = 3_000;

function args(): { activations: number; connections: number } {
  const out = { activations: 100_000, connections: 10_000 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!.replace(/^--/, '') as keyof typeof out;
    const v = Number(argv[i + 1]);
    if (!(name in out) || !Number.isInteger(v) || v < 1) throw new TypeError(`usage: [--activations N] [--connections N], got ${argv[i]} ${argv[i + 1]}`);
    out[name] = v;
  }
  return out;
}

/** Resident set of a process, MiB (Linux /proc). */
function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  if (line === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line.split(/\s+/)[1]) / 1024;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (m: string): void => void process.stderr.write(`[scale] ${m}\n`);

async function activate(url: string, n: number): Promise<{ seconds: number }> {
  const caller = await openWsBatch({ name: 'ws-batch', url });
  const t0 = Date.now();
  const deadline = t0 + PHASE_LIMIT_MS;
  let next = 0;
  await Promise.all(Array.from({ length: 1000 }, async () => {
    while (next < n && Date.now() < deadline) {
      const i = next++;
      await caller.call(`scale-${i}`);
    }
  }));
  await caller.close();
  if (next < n) throw new Error(`only ${next} of ${n} activations within ${PHASE_LIMIT_MS} ms`);
  return { seconds: (Date.now() - t0) / 1000 };
}

/** Opens `n` WebSocket connections, each making one call, and keeps them open; returns them. */
async function connectIdle(url: string, n: number): Promise<WebSocket[]> {
  const packr = new Packr({ useRecords: false });
  const unpackr = new Unpackr({ useRecords: false });
  const sockets: WebSocket[] = [];
  const deadline = Date.now() + PHASE_LIMIT_MS;
  let next = 0;
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (next < n && Date.now() < deadline) {
      const i = next++;
      const ws = new WebSocket(url, { perMessageDeflate: false });
      sockets.push(ws);
      await new Promise<void>((resolve, reject) => {
        ws.once('error', reject);
        ws.once('open', () => ws.send(packr.pack({ op: 'call', id: 1, actor: 'Counter', key: `conn-${i % 100}`, method: 'add', args: [1] })));
        ws.once('message', (data) => {
          const reply = unpackr.unpack(data as Buffer) as { ok?: unknown; error?: unknown };
          if (reply.error !== undefined) reject(new Error(`connection ${i}: ${JSON.stringify(reply.error)}`));
          else resolve();
        });
      });
    }
  }));
  if (next < n) throw new Error(`only ${next} of ${n} connections within ${PHASE_LIMIT_MS} ms`);
  return sockets;
}

async function main(): Promise<void> {
  const o = args();
  const node = await startCounterNode(ROOT, ['--idle', '86400000', '--max-activations', String(o.activations * 2), '--max-connections', String(o.connections + 100)]);
  try {
    const url = node.url;
    // Warm: the pool's threads started, the code paths compiled.
    await activate(url, 2_000);
    await sleep(SETTLE_MS);
    const before = rssMiB(node.pid);
    say(`node pid ${node.pid}: ${before.toFixed(1)} MiB after warm-up; activating ${o.activations} keys`);
    const { seconds } = await activate(url, o.activations);
    await sleep(SETTLE_MS);
    const afterActivations = rssMiB(node.pid);
    const perActivation = ((afterActivations - before) * 2 ** 20) / o.activations;
    say(`${o.activations} activations in ${seconds.toFixed(1)} s: ${afterActivations.toFixed(1)} MiB, ${Math.round(perActivation)} B each`);

    say(`opening ${o.connections} idle WebSocket connections`);
    const sockets = await connectIdle(url, o.connections);
    await sleep(SETTLE_MS);
    const afterConnections = rssMiB(node.pid);
    const perConnection = ((afterConnections - afterActivations) * 2 ** 20) / o.connections;
    say(`${o.connections} connections: ${afterConnections.toFixed(1)} MiB, ${Math.round(perConnection)} B each`);
    for (const ws of sockets) ws.terminate();

    const summary = {
      event: 'scale_summary',
      activations: o.activations,
      connections: o.connections,
      rssMiB: { warm: round(before), afterActivations: round(afterActivations), afterConnections: round(afterConnections) },
      bytesPerActivation: Math.round(perActivation),
      bytesPerConnection: Math.round(perConnection),
      activationSeconds: round(seconds),
    };
    process.stdout.write(`RSS per activation: ${summary.bytesPerActivation} B (${o.activations} Counter keys, embedded grid, records included)\nRSS per idle connection: ${summary.bytesPerConnection} B (${o.connections} WebSocket connections)\n${JSON.stringify(summary)}\n`);
  } finally {
    await node.stop();
  }
}

const round = (n: number): number => Math.round(n * 10) / 10;

await main();
process.exit(0);
