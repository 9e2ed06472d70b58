import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type TroupeClient } from '../client/index.js';
import { startStub, until, type ProtocolStub } from './fixtures/protocol-stub.js';

describe('client subscriptions', () => {
  let stub: ProtocolStub;
  let client: TroupeClient;
  const errors: Error[] = [];
  before(async () => {
    stub = await startStub();
    client = await connect({ url: stub.url, reconnect: { baseMs: 10, maxMs: 50 }, onError: (e) => errors.push(e) });
  });
  after(async () => {
    await client.close();
    stub.close();
  });

  it('an event says who published it and how many of that publisher\'s events were missed since the last one seen, across reconnects', async () => {
    const got: [unknown, number][] = [];
    const sub = await client.subscribe('gaps', (data, _topic, info) => got.push([data, info.missed]));
    stub.publish('gaps', 'a1', 'Room/a', 1);
    stub.publish('gaps', 'b1', 'Room/b', 1);
    stub.publish('gaps', 'a2', 'Room/a', 2);
    stub.publish('gaps', 'a5', 'Room/a', 5);
    await until(() => got.length === 4, 1000, 'four events');
    assert.deepEqual(got, [['a1', 0], ['b1', 0], ['a2', 0], ['a5', 2]]);
    stub.dropAll();
    await until(() => stub.subscribers('gaps') === 1, 2000, 'resubscribed after the drop');
    stub.publish('gaps', 'a7', 'Room/a', 7);
    await until(() => got.length === 5, 1000, 'the event after the reconnect');
    assert.deepEqual(got[4], ['a7', 1]);
    await sub.unsubscribe();
  });

  it('subscribe resolves once the node confirms, and events reach the handler', async () => {
    const got: unknown[] = [];
    const sub = await client.subscribe('room:lobby', (data, topic) => got.push([topic, data]));
    assert.equal(stub.subscribers('room:lobby'), 1);
    stub.publish('room:lobby', { text: 'hi' });
    stub.publish('room:other', 'not for us');
    await until(() => got.length === 1, 1000, 'event');
    assert.deepEqual(got, [['room:lobby', { text: 'hi' }]]);
    await sub.unsubscribe();
    assert.equal(stub.subscribers('room:lobby'), 0);
  });

  it('two handlers on one topic share one sub, and the last unsubscribe sends unsub', async () => {
    const before = stub.framesWith((m) => m.topic === 'shared').length;
    const a: unknown[] = [];
    const b: unknown[] = [];
    const [sa, sb] = await Promise.all([client.subscribe('shared', (d) => a.push(d)), client.subscribe('shared', (d) => b.push(d))]);
    assert.equal(stub.framesWith((m) => m.op === 'sub' && m.topic === 'shared').length, 1);
    stub.publish('shared', 1);
    await until(() => a.length === 1 && b.length === 1, 1000, 'both handlers');
    await sa.unsubscribe();
    assert.equal(stub.subscribers('shared'), 1, 'still subscribed for the other handler');
    stub.publish('shared', 2);
    await until(() => b.length === 2, 1000, 'second event');
    assert.deepEqual(a, [1]);
    await sb.unsubscribe();
    await sb.unsubscribe(); // a second call is a no-op
    assert.equal(stub.subscribers('shared'), 0);
    assert.equal(stub.framesWith((m) => m.topic === 'shared').length - before, 2, 'one sub, one unsub');
  });

  it('resubscribes after a reconnect', async () => {
    const got: unknown[] = [];
    await client.subscribe('after-drop', (d) => got.push(d));
    stub.dropAll();
    await until(() => stub.subscribers('after-drop') === 1 && client.state === 'open', 2000, 'resubscribed');
    stub.publish('after-drop', 'again');
    await until(() => got.length === 1, 1000, 'event after reconnect');
    assert.equal(stub.framesWith((m) => m.op === 'sub' && m.topic === 'after-drop').length, 2);
  });

  it('a throwing handler is reported to onError and does not stop the others', async () => {
    const got: unknown[] = [];
    await client.subscribe('throws', () => {
      throw new Error('handler bug');
    });
    await client.subscribe('throws', (d) => got.push(d));
    stub.publish('throws', 'x');
    await until(() => got.length === 1, 1000, 'event');
    assert.ok(errors.some((e) => e.message === 'handler bug'));
  });

  it('unsubscribe after close() resolves quietly', async () => {
    const c = await connect({ url: stub.url });
    const sub = await c.subscribe('closing', () => {});
    await c.close();
    await sub.unsubscribe();
  });
});
