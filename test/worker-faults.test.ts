/** A handler that hangs its worker or ends it is contained: clear error, state unchanged, worker replaced, others unharmed. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';
import { RawClient } from './fixtures/raw-client.js';

describe('worker faults', () => {
  let node: TroupeNode;
  let client: RawClient;

  before(async () => {
    node = await startNode(['--threads', '2']);
    client = await RawClient.connect(node.port);
  });
  after(async () => {
    client.close();
    await node.stop();
  });

  test('a handler stuck in a loop fails with E_TIMEOUT, its worker is replaced and its state is unchanged', async () => {
    assert.equal((await client.call('Hostile', 'spinner', 'bump')).value, 1);
    const started = Date.now();
    const r = await client.call('Hostile', 'spinner', 'spin', [], { timeout: 300 });
    assert.equal(r.code, 'E_TIMEOUT');
    // While it spins, another actor is served by the other thread.
    assert.equal((await client.call('Counter', 'beside-spinner', 'add', [1])).value, 1);
    // The stuck worker is terminated shortly after the deadline; then the actor is usable again, unchanged.
    let after: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) {
      after = await client.call('Hostile', 'spinner', 'get');
      if (after.op === 'result') break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(after.value, 1);
    assert.ok(Date.now() - started < 8000);
  });

  test('a handler that ends its worker thread fails with E_ACTOR_FAILED and changes nothing', async () => {
    assert.equal((await client.call('Hostile', 'exiter', 'bump')).value, 1);
    const r = await client.call('Hostile', 'exiter', 'exit');
    assert.equal(r.code, 'E_ACTOR_FAILED');
    assert.match(String(r.message), /worker thread .* stopped/);
    assert.equal((await client.call('Hostile', 'exiter', 'get')).value, 1);
  });

  test('actors that shared a batch with the one that killed its worker still get their answers', async () => {
    const frame = [
      { op: 'call', id: 'b1', actor: 'Counter', key: 'batch-mate-1', method: 'add', args: [1] },
      { op: 'call', id: 'bx', actor: 'Hostile', key: 'batch-exit', method: 'exit', args: [] },
      { op: 'call', id: 'b2', actor: 'Counter', key: 'batch-mate-2', method: 'add', args: [1] },
    ];
    client.sendBinary(frame);
    const [a, x, b] = await Promise.all(frame.map((m) => client.reply(m.id, 10_000)));
    assert.equal(a!.value, 1);
    assert.equal(x!.code, 'E_ACTOR_FAILED');
    assert.equal(b!.value, 1);
  });

  test('a type that keeps killing its workers gets its circuit opened: E_UNAVAILABLE at once, others unaffected, visible in /metrics', async () => {
    let code: unknown;
    for (let i = 0; i < 8 && code !== 'E_UNAVAILABLE'; i++) code = (await client.call('Hostile', `breaker-${i}`, 'exit')).code;
    assert.equal(code, 'E_UNAVAILABLE');
    const started = Date.now();
    const r = await client.call('Hostile', 'breaker-x', 'bump');
    assert.equal(r.code, 'E_UNAVAILABLE');
    assert.match(String(r.message), /circuit breaker open/);
    assert.ok(Date.now() - started < 200);
    assert.equal((await client.call('Counter', 'beside-breaker', 'add', [1])).value, 1);
    const metrics = await (await fetch(`http://127.0.0.1:${node.port}/metrics`)).text();
    assert.match(metrics, /troupe_breaker_state\{breaker="actor:Hostile",node="[^"]+"\} 2/);
    const ready = (await (await fetch(`http://127.0.0.1:${node.port}/health/ready`)).json()) as { breakers: Record<string, string> };
    assert.equal(ready.breakers['actor:Hostile'], 'open');
    assert.equal(ready.breakers.grid, 'closed');
  });
});
