/** A handler that hangs its worker or ends it is contained: clear error, state unchanged, worker replaced, others unharmed. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';
import { nodeWithClient } from './fixtures/node-on-grid.js';
import { RawClient } from './fixtures/raw-client.js';
import { addExtension } from 'msgpackr';
import { TaskDataError, TurnPool } from '../runtime/pool/turn-pool.js';
import type { TaskGroup } from '../runtime/pool/protocol.js';
import { MODULES } from './fixtures/node.js';

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

  const breakerState = async (name: string): Promise<string | undefined> => {
    const ready = (await (await fetch(`http://127.0.0.1:${node.port}/health/ready`)).json()) as { breakers: Record<string, string> };
    return ready.breakers[name];
  };

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

  test('a handler that overflows the stack fails its own turn with E_ACTOR_FAILED, state unchanged; not a worker failure', async () => {
    assert.equal((await client.call('Deep', 'recurser', 'bump')).value, 1);
    const r = await client.call('Deep', 'recurser', 'recurse');
    assert.equal(r.code, 'E_ACTOR_FAILED');
    assert.match(String(r.message), /Maximum call stack size exceeded/);
    assert.equal((await client.call('Deep', 'recurser', 'get')).value, 1);
    assert.equal(await breakerState('actor:Deep'), 'closed');
  });

  test('values too deep to cross between threads fail the turn that made them, never the thread or the node', async () => {
    // Past what the main thread's msgpack decoder (results) or encoder (arguments to another actor) can
    // recurse through: each used to fail the whole task as if its thread had died, and count against the breaker.
    const results = [
      ['deepResult', [5000], 'E_ACTOR_FAILED'],
      ['deepResultLater', [5000], 'E_ACTOR_FAILED'], // answered after its task, over the side channel
      ['publishDeep', ['deep-topic', 8000], 'E_ACTOR_FAILED'],
    ] as const;
    for (let i = 0; i < 3; i++) {
      for (const [method, args, code] of results) {
        const r = await client.call('Deep', `deep-${method}`, method, [...args]);
        assert.equal(r.code, code, `${method}: ${JSON.stringify(r).slice(0, 200)}`);
      }
      // An argument the host cannot encode for the callee's worker: the caller's handler gets the error.
      assert.equal((await client.call('Deep', 'deep-caller', 'callDeep', [3000])).value, 'E_BAD_REQUEST');
    }
    // A JSON client's answer too deep to stringify on the main thread: an error for that call, the node lives.
    const text = await RawClient.connect(node.port);
    try {
      text.sendText(JSON.stringify({ op: 'call', id: 'json-deep', actor: 'Deep', key: 'deep-json', method: 'deepResult', args: [4200] }));
      assert.equal((await text.reply('json-deep')).code, 'E_ACTOR_FAILED');
    } finally {
      text.close();
    }
    assert.equal(await breakerState('actor:Deep'), 'closed');
    assert.notEqual(await breakerState('actor:Log'), 'open');
    assert.equal((await client.call('Deep', 'deep-after', 'bump')).value, 1);
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

describe('worker deserialization', () => {
  test('a task its worker cannot decode is refused as data (not a dead thread), and the pool takes the next task', async () => {
    // A class the main thread can encode (its extension registered here only) and the worker cannot decode.
    class OnlyHere {
      constructor(readonly n: number) {}
    }
    addExtension({ Class: OnlyHere, type: 0x31, pack: (v: OnlyHere) => Buffer.from([v.n]), unpack: (b: Uint8Array) => new OnlyHere(b[0]!) });
    const pool = new TurnPool(
      { name: 'deserialization', modules: [MODULES.testActors], minThreads: 1, maxThreads: 1, callTimeoutMs: 5000, idem: { max: 0, ttlMs: 0, minAgeMs: 0, hardMax: 0 }, incarnation: 'test' },
      { call: async () => null, grid: async () => null, deferredResult: () => {}, deferredFailed: () => {}, threadGone: () => {} },
    );
    try {
      const group = (id: number, arg: unknown): TaskGroup => [id, 'Log', `k${id}`, null, [['append', [arg], null, null, id]]];
      const [first] = await pool.run([group(1, 1)], 10_000);
      await assert.rejects(pool.run([group(2, new OnlyHere(7))], 10_000), (err: unknown) => {
        assert.ok(err instanceof TaskDataError, String(err));
        assert.equal(err.data.code, 'E_BAD_REQUEST');
        assert.match(err.data.message, /could not be decoded in the worker/);
        return true;
      });
      const [after] = await pool.run([group(3, 1)], 10_000);
      assert.deepEqual([first![0]![2], after![0]![2]], [[[1, 1]], [[1, 1]]]);
      assert.equal(pool.threadCount(), 1);
    } finally {
      await pool.close();
    }
  });
});

describe('grid failures seen by a handler', () => {
  test('a grid operation that fails without a code of ours reaches the handler as E_UNAVAILABLE (transient), not E_ACTOR_FAILED', async () => {
    let answered: (r: unknown) => void = () => {};
    const later = new Promise<unknown>((resolve) => (answered = resolve));
    const pool = new TurnPool(
      { name: 'grid-failure', modules: [MODULES.testActors], minThreads: 1, maxThreads: 1, callTimeoutMs: 5000, idem: { max: 0, ttlMs: 0, minAgeMs: 0, hardMax: 0 }, incarnation: 'test' },
      { call: async () => null, grid: async () => { throw new Error('connection to the member lost'); }, deferredResult: (r) => answered(r), deferredFailed: () => {}, threadGone: () => {} },
    );
    try {
      const [done] = await pool.run([[1, 'Log', 'grid-fail', null, [['gridReadCode', ['m'], null, null, 1]]]], 10_000);
      // An awaiting handler answers over the side channel once its task has returned.
      const result = (done.length > 0 ? done[0] : await later) as unknown[];
      assert.deepEqual(result[2], [[1, 'E_UNAVAILABLE']]);
    } finally {
      await pool.close();
    }
  });
});

describe('single writer', () => {
  const s = nodeWithClient();

  test('an async handler past its deadline is ended with its thread before the actor takes its next message; it has no effect after', async () => {
    const sent = Date.now();
    const stuck = await s.client.call('Sloth', 'sw', 'stall', ['log-sloth', 3000], { timeout: 400 });
    assert.equal(stuck.code, 'E_TIMEOUT');
    // The next message waits for the stuck turn's thread to end (deadline + 1 s grace), then runs.
    const next = await s.client.call('Sloth', 'sw', 'ping', [], { timeout: 10_000 });
    const ranAfter = Date.now() - sent;
    assert.equal(next.value, 1);
    assert.ok(ranAfter >= 1300, `the next turn ran ${ranAfter} ms after the stuck one started: before its thread was ended`);
    assert.ok(ranAfter < 3000, `the next turn waited ${ranAfter} ms: the stuck thread was not ended in time`);
    // Had the stuck handler lived on, its call would land at 3 s.
    await new Promise((r) => setTimeout(r, Math.max(0, 3800 - (Date.now() - sent))));
    assert.deepEqual((await s.client.call('Log', 'log-sloth', 'items')).value, []);
  });
});

describe('a thread ended for a stuck turn', () => {
  // One thread: the stuck turn awaits in it while another actor's task runs there.
  const s = nodeWithClient(['--threads', '1']);

  test('the other turns running in it are run again, not failed: their callers get their answers, nothing is charged to them', async () => {
    const stuck = s.client.call('Sloth', 'ended-under', 'stall', ['log-ended-under', 3000], { timeout: 400 });
    await new Promise((r) => setTimeout(r, 150));
    // Busy in the same thread from ~150 ms to ~2.6 s: the thread is ended at ~1.4 s (deadline + 1 s grace), mid-task.
    const beside = s.client.call('Hostile', 'bystander', 'burn', [2500], { timeout: 15_000 });
    assert.equal((await stuck).code, 'E_TIMEOUT');
    const r = await beside;
    assert.equal(r.value, 1, `the bystander's call answered ${JSON.stringify(r).slice(0, 300)}`);
    assert.equal((await s.client.call('Hostile', 'bystander', 'get')).value, 1);
    const ready = (await (await fetch(`http://127.0.0.1:${s.node.port}/health/ready`)).json()) as { breakers: Record<string, string> };
    assert.equal(ready.breakers['actor:Hostile'], 'closed');
  });

  test('turns handed to the thread while it is being ended (before it has exited) are run again too', async () => {
    const stuck = s.client.call('Sloth', 'ended-while', 'stall', ['log-ended-while', 3000], { timeout: 400 });
    // A call every 2 ms from before the thread is ended (~1.4 s) until after it has exited.
    const calls: Promise<Record<string, unknown>>[] = [];
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 0; i < 300; i++) {
      calls.push(s.client.call('Hostile', `while-ending-${i % 20}`, 'bump', [], { timeout: 15_000 }));
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal((await stuck).code, 'E_TIMEOUT');
    const answers = await Promise.all(calls);
    const failed = answers.filter((a) => a.op !== 'result');
    assert.deepEqual(failed.slice(0, 3), [], `${failed.length} of ${answers.length} calls failed`);
  });
});

describe('poison keys', () => {
  const s = nodeWithClient();

  test('a key that keeps killing its worker is quarantined on its own; its type keeps serving and its breaker stays closed', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await s.client.call('Hostile', 'poison', 'exit')).code, 'E_ACTOR_FAILED');
    const r = await s.client.call('Hostile', 'poison', 'bump');
    assert.equal(r.code, 'E_UNAVAILABLE');
    assert.match(String(r.message), /quarantined/);
    // The same type, other keys: served as usual, many times over.
    for (let i = 0; i < 20; i++) assert.equal((await s.client.call('Hostile', `healthy-${i}`, 'bump')).value, 1);
    // More attacks on the poison key fail fast and do not reach a worker.
    for (let i = 0; i < 10; i++) assert.equal((await s.client.call('Hostile', 'poison', 'exit')).code, 'E_UNAVAILABLE');
    const ready = (await (await fetch(`http://127.0.0.1:${s.node.port}/health/ready`)).json()) as { breakers: Record<string, string> };
    assert.notEqual(ready.breakers['actor:Hostile'], 'open');
  });
});
