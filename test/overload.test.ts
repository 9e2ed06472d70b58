/**
 * Clients sending at about three times what a node can run: the node's memory
 * stays bounded and the excess is refused with E_OVERLOADED at once, instead
 * of queueing until calls time out.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Packr } from 'msgpackr';
import WebSocket from 'ws';
import { spawnNode, type NodeProcess } from './fixtures/node-process.js';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';
import { RawClient } from './fixtures/raw-client.js';

const packr = new Packr({ useRecords: false });
const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

let node: NodeProcess;
before(async () => {
  // One thread burning 1 ms per turn: capacity about 1000 calls/s. The backlog bound is what keeps memory flat.
  node = await spawnNode(['--threads', '1', '--max-queued', '2000']);
});
after(async () => {
  await node.stop();
});

test('at 3x capacity: bounded memory, fast E_OVERLOADED, no timeouts', async (t) => {
  const sockets = await Promise.all(Array.from({ length: 4 }, () => new Promise<WebSocket>((res, rej) => {
    const ws = new WebSocket(node.url);
    ws.once('open', () => res(ws));
    ws.once('error', rej);
  })));
  const sentAt = new Map<number, number>();
  const codes = new Map<string, number>();
  const rejectMs: number[] = [];
  let answered = 0;
  for (const ws of sockets) {
    ws.on('message', (data: Buffer) => {
      const v = packr.unpack(data);
      for (const m of (Array.isArray(v) ? v : [v]) as { op: string; id: number; code?: string }[]) {
        answered++;
        const code = m.op === 'result' ? 'ok' : m.code!;
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (code === 'E_OVERLOADED') rejectMs.push(performance.now() - sentAt.get(m.id)!);
        sentAt.delete(m.id);
      }
    });
  }
  const baseline = rssMiB(node.pid);
  let peak = baseline;
  let id = 0;
  const seconds = 6;
  const perTick = 36; // calls per 10 ms tick over all sockets: ~3000 calls/s once timer slack is counted
  const started = Date.now();
  // Open loop at ~3000 calls/s (3x the ~1000/s the node can run), for a bounded time and count.
  while (Date.now() - started < seconds * 1000 && id < 20_000) {
    for (const ws of sockets) {
      const frame = [];
      for (let i = 0; i < perTick / 4; i++) {
        sentAt.set(++id, performance.now());
        frame.push({ op: 'call', id, actor: 'Hostile', key: `ov-${id % 50}`, method: 'burn', args: [1] });
      }
      ws.send(packr.pack(frame));
    }
    peak = Math.max(peak, rssMiB(node.pid));
    await new Promise((r) => setTimeout(r, 10));
  }
  const offered = id;
  // Let the accepted backlog drain (2000 turns at ~1 ms each).
  for (let i = 0; i < 200 && answered < offered; i++) await new Promise((r) => setTimeout(r, 50));
  for (const ws of sockets) ws.close();
  rejectMs.sort((a, b) => a - b);
  const p99 = rejectMs[Math.floor(rejectMs.length * 0.99)] ?? 0;
  const summary = { offered, perSecond: Math.round(offered / seconds), codes: Object.fromEntries(codes), baselineMiB: Math.round(baseline), peakMiB: Math.round(peak), rejectP99Ms: Math.round(p99) };
  t.diagnostic(`overload: ${JSON.stringify(summary)}`);
  assert.equal(answered, offered, 'every call was answered');
  assert.ok((codes.get('E_OVERLOADED') ?? 0) > offered / 3, 'most of the excess was refused');
  assert.equal(codes.get('E_TIMEOUT') ?? 0, 0, 'nothing waited until it timed out');
  assert.ok(p99 < 250, `refusals took up to ${p99.toFixed(0)} ms (p99)`);
  assert.ok(peak - baseline < 120, `RSS grew from ${baseline.toFixed(0)} to ${peak.toFixed(0)} MiB`);
});

describe('activation bounds', () => {
  let node: TroupeNode;
  let client: RawClient;
  before(async () => {
    node = await startNode(['--max-activations', '50']);
    client = await RawClient.connect(node.port);
  });
  after(async () => {
    client.close();
    await node.stop();
  });

  const active = async (): Promise<number> => {
    const line = (await node.metrics.text()).split('\n').find((l) => l.startsWith('troupe_active_actors{'));
    return Number(line!.slice(line!.lastIndexOf(' ') + 1));
  };

  test('past --max-activations the least recently used idle actors are forgotten; their state stays in the grid', async () => {
    for (let i = 0; i < 200; i++) assert.equal((await client.call('Counter', `bounded-${i}`, 'add', [1])).value, 1);
    assert.ok((await active()) <= 50, `${await active()} live actors with --max-activations 50`);
    // Evicted ones come back from the grid with their state.
    for (let i = 0; i < 200; i += 20) assert.equal((await client.call('Counter', `bounded-${i}`, 'add', [1])).value, 2);
  });

  test('when no live actor is idle, a new one is refused with E_OVERLOADED, the busy ones finish', async () => {
    const busy = Array.from({ length: 60 }, (_, i) => client.call('Log', `busy-${i}`, 'slowAppend', ['x', 400]));
    const answers = await Promise.all(busy);
    const codes = answers.map((a) => a.code ?? 'ok');
    assert.ok(codes.filter((c) => c === 'ok').length >= 45, `answers: ${codes.join(',')}`);
    assert.ok(codes.some((c) => c === 'E_OVERLOADED'), `no call was refused past the bound: ${codes.join(',')}`);
    assert.ok(codes.every((c) => c === 'ok' || c === 'E_OVERLOADED'));
  });
});
