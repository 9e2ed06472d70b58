/** Wire protocol v1 end to end over a real socket against a real node (embedded grid). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';
import { RawClient } from './fixtures/raw-client.js';

describe('wire protocol v1', () => {
  let node: TroupeNode;
  let client: RawClient;

  before(async () => {
    node = await startNode(['--max-frame', String(64 * 1024), '--max-batch', '500']);
    client = await RawClient.connect(node.port);
  });
  after(async () => {
    client.close();
    await node.stop();
  });

  test('a binary call is answered with a binary result', async () => {
    const r = await client.call('Counter', 'bin', 'add', [5]);
    assert.deepEqual(r, { op: 'result', id: r.id, value: 5 });
  });

  test('a text frame holding JSON is answered in JSON', async () => {
    const text = await RawClient.connect(node.port);
    try {
      text.sendText(JSON.stringify({ op: 'call', id: 7, actor: 'Counter', key: 'txt', method: 'add', args: [2] }));
      const r = await text.reply(7);
      assert.deepEqual(r, { op: 'result', id: 7, value: 2 });
    } finally {
      text.close();
    }
  });

  test('a batch frame gets every answer, each under its own id', async () => {
    const batch = Array.from({ length: 50 }, (_, i) => ({ op: 'call', id: 1000 + i, actor: 'Counter', key: `batch-${i % 5}`, method: 'add', args: [1] }));
    client.sendBinary(batch);
    const answers = await Promise.all(batch.map((m) => client.reply(m.id)));
    assert.ok(answers.every((a) => a.op === 'result'));
    // Five keys, ten adds each: the last answer for every key is 10.
    const totals = new Map<string, number>();
    batch.forEach((m, i) => totals.set(m.key, answers[i]!.value as number));
    assert.deepEqual([...totals.values()], [10, 10, 10, 10, 10]);
  });

  test('a batch mixing messages the call reader takes and those it leaves to the general path keeps their order', async () => {
    // Plain calls are read from their bytes (gateway/call-reader.ts); the others are decoded in full.
    // Both kinds on one key, interleaved: the adds must run in the frame's order, each answered under its id.
    const key = 'mixed-order';
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const batch: Record<string, unknown>[] = [
      { op: 'call', id: 501, actor: 'Counter', key, method: 'add', args: [1] },
      { op: 'call', id: 502, actor: 'Counter', key, method: 'add', args: [1], traceparent: tp },
      { op: 'call', id: 503, actor: 'Counter', key, method: 'add', args: [1], timeout: undefined },
      { op: 'call', id: 504, actor: 'Counter', key, method: 'add', args: [1], idem: '~reserved' },
      { op: 'sub', id: 505, topic: 'mixed-topic' },
      { op: 'call', id: 506, actor: 'Counter', key, method: 'add', args: [1], extra: 'field' },
      { op: 'tell', actor: 'Counter', key, method: 'add', args: [1] },
      { op: 'call', id: 507, actor: 'Counter', key, method: 'add', args: [1] },
      { op: 'call', id: 508, actor: 'Nope', key, method: 'add', args: [1] },
      { op: 'call', id: 509, actor: 'Counter', key, method: 'get' },
    ];
    client.sendBinary(batch);
    const ids = [501, 502, 503, 504, 505, 506, 507, 508, 509];
    const answers = await Promise.all(ids.map((id) => client.reply(id)));
    const byId = new Map(ids.map((id, i) => [id, answers[i]!]));
    assert.equal(byId.get(501)!.value, 1);
    assert.equal(byId.get(502)!.value, 2);
    assert.equal(byId.get(503)!.value, 3);
    assert.equal(byId.get(504)!.op, 'error');
    assert.equal(byId.get(504)!.code, 'E_BAD_REQUEST');
    assert.equal(byId.get(505)!.value, true);
    // An unknown field is ignored by the general path, as before the reader.
    assert.equal(byId.get(506)!.value, 4);
    // The tell ran between 506 and 507.
    assert.equal(byId.get(507)!.value, 6);
    assert.equal(byId.get(508)!.code, 'E_UNKNOWN_ACTOR');
    assert.equal(byId.get(509)!.value, 6);
  });

  test('string ids are echoed back as they were sent', async () => {
    client.sendBinary({ op: 'call', id: 'abc-1', actor: 'Counter', key: 'sid', method: 'get', args: [] });
    assert.equal((await client.reply('abc-1')).value, 0);
  });

  test('tell runs the method without an answer', async () => {
    client.sendBinary({ op: 'tell', actor: 'Log', key: 'tell', method: 'append', args: ['t1'] });
    let items: unknown[] = [];
    for (let i = 0; i < 50 && items.length === 0; i++) {
      items = (await client.call('Log', 'tell', 'items')).value as unknown[];
      if (items.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(items, ['t1']);
  });

  test('unknown actor type → E_UNKNOWN_ACTOR', async () => {
    const r = await client.call('Nope', 'k', 'add', [1]);
    assert.equal(r.op, 'error');
    assert.equal(r.code, 'E_UNKNOWN_ACTOR');
  });

  test('unknown method → E_UNKNOWN_METHOD', async () => {
    assert.equal((await client.call('Counter', 'k', 'multiply', [2])).code, 'E_UNKNOWN_METHOD');
  });

  for (const method of ['secret', '_underscored', 'constructor', '__proto__', 'toString', 'state', 'ref', 'publish', 'hasOwnProperty']) {
    test(`a method the class does not expose (${method}) → E_UNKNOWN_METHOD`, async () => {
      assert.equal((await client.call('Log', 'k', method, [])).code, 'E_UNKNOWN_METHOD');
    });
  }

  test('a handler that throws → E_ACTOR_FAILED with its message, state unchanged', async () => {
    await client.call('Log', 'throw', 'append', ['a']);
    const r = await client.call('Log', 'throw', 'appendThenFail', ['b']);
    assert.equal(r.code, 'E_ACTOR_FAILED');
    assert.match(String(r.message), /BOOM: refused b/);
    assert.deepEqual((await client.call('Log', 'throw', 'items')).value, ['a']);
  });

  test('a failing turn inside a batch rolls back only itself', async () => {
    const msgs = [
      { op: 'call', id: 'rb1', actor: 'Log', key: 'rollback', method: 'append', args: [1] },
      { op: 'call', id: 'rb2', actor: 'Log', key: 'rollback', method: 'appendThenFail', args: [2] },
      { op: 'call', id: 'rb3', actor: 'Log', key: 'rollback', method: 'append', args: [3] },
    ];
    client.sendBinary(msgs);
    const [a, b, c] = await Promise.all(msgs.map((m) => client.reply(m.id)));
    assert.equal(a!.value, 1);
    assert.equal(b!.code, 'E_ACTOR_FAILED');
    assert.equal(c!.value, 2);
    assert.deepEqual((await client.call('Log', 'rollback', 'items')).value, [1, 3]);
  });

  test('a result that cannot be serialized → E_ACTOR_FAILED', async () => {
    assert.equal((await client.call('Log', 'ns', 'notSerializable')).code, 'E_ACTOR_FAILED');
  });

  describe('malformed input gets E_BAD_REQUEST and the connection stays usable', () => {
    const cases: [string, (c: RawClient) => void, unknown][] = [
      ['binary frame that is not msgpack', (c) => c.sendBytes(Uint8Array.from([0x92, 0x01])), null],
      ['text frame that is not JSON', (c) => c.sendText('{"op": "call", '), null],
      ['a value that is not an object', (c) => c.sendBinary(42), null],
      ['a message without op', (c) => c.sendBinary({ id: 'm1' }), 'm1'],
      ['an unknown op', (c) => c.sendBinary({ op: 'explode', id: 'm2' }), 'm2'],
      ['a call without id', (c) => c.sendBinary({ op: 'call', actor: 'Counter', key: 'x', method: 'add', args: [1] }), null],
      ['actor of the wrong type', (c) => c.sendBinary({ op: 'call', id: 'm3', actor: 5, key: 'x', method: 'add', args: [] }), 'm3'],
      ['args that are not an array', (c) => c.sendBinary({ op: 'call', id: 'm4', actor: 'Counter', key: 'x', method: 'add', args: 'no' }), 'm4'],
      ['a negative timeout', (c) => c.sendBinary({ op: 'call', id: 'm5', actor: 'Counter', key: 'x', method: 'add', args: [1], timeout: -1 }), 'm5'],
      ['a sub without topic', (c) => c.sendText(JSON.stringify({ op: 'sub', id: 'm6' })), 'm6'],
    ];
    for (const [name, send, id] of cases) {
      test(name, async () => {
        const c = await RawClient.connect(node.port);
        try {
          send(c);
          const err = await c.waitFor((m) => m.op === 'error');
          assert.equal(err.code, 'E_BAD_REQUEST');
          assert.equal(err.id, id);
          assert.equal(typeof err.message, 'string');
          const ok = await c.call('Counter', 'after-bad', 'get');
          assert.equal(ok.op, 'result');
        } finally {
          c.close();
        }
      });
    }

    test('one bad message in a batch does not spoil the others', async () => {
      client.sendBinary([{ op: 'call', id: 'good1', actor: 'Counter', key: 'mix', method: 'add', args: [1] }, { op: 'nope', id: 'bad1' }, 'junk']);
      assert.equal((await client.reply('good1')).value, 1);
      assert.equal((await client.reply('bad1')).code, 'E_BAD_REQUEST');
    });
  });

  test('a frame over --max-frame → E_TOO_LARGE, connection stays usable', async () => {
    const c = await RawClient.connect(node.port);
    try {
      c.sendBinary({ op: 'call', id: 'big', actor: 'Log', key: 'big', method: 'append', args: ['x'.repeat(100 * 1024)] });
      const err = await c.waitFor((m) => m.op === 'error');
      assert.equal(err.code, 'E_TOO_LARGE');
      assert.equal(err.id, null);
      assert.equal((await c.call('Log', 'big', 'items')).value instanceof Array, true);
      assert.deepEqual((await c.call('Log', 'big', 'items')).value, []);
    } finally {
      c.close();
    }
  });

  test('a frame far past the limit is cut off with a close, the node carries on', async () => {
    const c = await RawClient.connect(node.port);
    c.sendBytes(new Uint8Array(1024 * 1024));
    const closed = await c.closed();
    assert.notEqual(closed.code, 1000);
    const r = await client.call('Counter', 'still-up', 'add', [1]);
    assert.equal(r.value, 1);
  });

  test('a batch longer than --max-batch → E_TOO_LARGE', async () => {
    const batch = Array.from({ length: 501 }, (_, i) => ({ op: 'call', id: `mb${i}`, actor: 'Counter', key: 'mb', method: 'get', args: [] }));
    client.sendBinary(batch);
    const err = await client.waitFor((m) => m.op === 'error' && m.code === 'E_TOO_LARGE');
    assert.equal(err.id, null);
  });

  test('a per-call timeout → E_TIMEOUT', async () => {
    const r = await client.call('Log', 'slow', 'slowAppend', ['x', 400], { timeout: 50 });
    assert.equal(r.code, 'E_TIMEOUT');
  });

  test('sub and unsub answer true; events follow publishes', async () => {
    const sub = await RawClient.connect(node.port);
    try {
      sub.sendBinary({ op: 'sub', id: 's1', topic: 'room:lobby' });
      assert.equal((await sub.reply('s1')).value, true);
      const posted = await client.call('Room', 'lobby', 'post', ['ann', 'hello']);
      assert.equal(posted.op, 'result');
      const ev = await sub.waitFor((m) => m.op === 'event');
      assert.equal(ev.topic, 'room:lobby');
      assert.deepEqual({ ...(ev.data as object), at: 0 }, { user: 'ann', text: 'hello', at: 0 });
      sub.sendBinary({ op: 'unsub', id: 's2', topic: 'room:lobby' });
      assert.equal((await sub.reply('s2')).value, true);
      await client.call('Room', 'lobby', 'post', ['ann', 'again']);
      await client.call('Room', 'lobby', 'history');
      assert.equal(sub.received.filter((m) => m.op === 'event').length, 1);
    } finally {
      sub.close();
    }
  });

  test('the same idem key is applied once and answered with the stored result', async () => {
    const a = await client.call('Counter', 'idem', 'add', [5], { idem: 'op-1' });
    const b = await client.call('Counter', 'idem', 'add', [5], { idem: 'op-1' });
    const c = await client.call('Counter', 'idem', 'add', [1], { idem: 'op-2' });
    assert.equal(a.value, 5);
    assert.equal(b.value, 5);
    assert.equal(c.value, 6);
  });

  test('a client that disconnects mid-call loses nothing: the turn still commits', async () => {
    const c = await RawClient.connect(node.port);
    c.sendBinary({ op: 'call', id: 'gone', actor: 'Log', key: 'gone', method: 'slowAppend', args: ['kept', 100] });
    await new Promise((r) => setTimeout(r, 10));
    c.ws.terminate();
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual((await client.call('Log', 'gone', 'items')).value, ['kept']);
  });
});
