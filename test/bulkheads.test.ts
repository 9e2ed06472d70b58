/** Bulkheads: a type that spins the CPU or floods its queue cannot starve the types in other bulkheads. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBulkheads } from '../runtime/bulkheads.js';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';
import { RawClient } from './fixtures/raw-client.js';

/** p99 of `n` sequential Counter calls, ms. */
async function counterP99(c: RawClient, n: number): Promise<number> {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await c.call('Counter', `iso-${i % 10}`, 'add', [1]);
    assert.equal(r.op, 'result', JSON.stringify(r));
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  return lat[Math.floor(n * 0.99)]!;
}

describe('bulkheads', () => {
  let node: TroupeNode;
  let c: RawClient;

  before(async () => {
    node = await startNode(['--threads', '1', '--bulkheads', 'hostile:Hostile:threads=1:queue=50']);
    c = await RawClient.connect(node.port);
  });
  after(async () => {
    c.close();
    await node.stop();
  });

  // The bound is for a 2-core machine where the spinning thread takes one core: without the
  // bulkhead, Counter's turns wait behind the spinner until their deadline (seconds).
  test('while a Hostile actor spins its pool\'s only thread, Counter p99 stays under 500 ms', async (t) => {
    await counterP99(c, 20);
    c.sendBinary({ op: 'call', id: 'spin', actor: 'Hostile', key: 'spinner', method: 'spin', args: [], timeout: 4000 });
    await new Promise((r) => setTimeout(r, 100));
    const p99 = await counterP99(c, 200);
    t.diagnostic(`Counter p99 while another bulkhead spins: ${p99.toFixed(1)} ms`);
    assert.ok(p99 < 500, `Counter p99 ${p99.toFixed(1)} ms while another bulkhead spins`);
    assert.equal((await c.reply('spin', 15_000)).code, 'E_TIMEOUT');
  });

  test('a flood on one bulkhead is refused with E_OVERLOADED there, and other types are served', async () => {
    const flood = Array.from({ length: 400 }, (_, i) => ({ op: 'call', id: `f${i}`, actor: 'Hostile', key: `flood-${i % 3}`, method: 'bump', args: [] }));
    c.sendBinary(flood);
    const counter = await c.call('Counter', 'during-flood', 'add', [1]);
    assert.equal(counter.value, 1);
    const answers = await Promise.all(flood.map((m) => c.reply(m.id, 20_000)));
    const over = answers.filter((a) => a.code === 'E_OVERLOADED').length;
    assert.ok(over > 0, 'the hostile bulkhead\'s queue bound was enforced');
    assert.equal(answers.filter((a) => a.op === 'result').length + over, 400);
  });
});

describe('bulkhead spec', () => {
  const d = { maxThreads: 4, minThreads: 1, maxQueued: 1000 };
  test('parses groups with options and defaults', () => {
    assert.deepEqual(parseBulkheads('billing:Account,Transfer:threads=2:queue=50;chat:Room', d), [
      { name: 'billing', types: ['Account', 'Transfer'], maxThreads: 2, minThreads: 1, maxQueued: 50 },
      { name: 'chat', types: ['Room'], maxThreads: 4, minThreads: 1, maxQueued: 1000 },
    ]);
  });
  for (const bad of ['default:A', 'x:', 'x:A:threads=0', 'x:A:speed=3', 'x:A;y:A', 'x:A;x:B']) {
    test(`refuses '${bad}'`, () => assert.throws(() => parseBulkheads(bad, d)));
  }
});
