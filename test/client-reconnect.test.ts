import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect, type ClientState, type TroupeError } from '../client/index.js';
import { startStub, until } from './fixtures/protocol-stub.js';

const fast = { baseMs: 10, maxMs: 50 };

describe('client reconnect', () => {
  it('after a drop, calls with an idem key are re-sent and applied once; calls without one fail with E_UNAVAILABLE', async () => {
    const stub = await startStub();
    const client = await connect({ url: stub.url, reconnect: fast });
    try {
      stub.hold = true;
      const withIdem = client.call('Counter', 'r', 'add', [5], { idem: 'k1' });
      const without = client.call('Counter', 'r', 'add', [1]);
      await until(() => stub.counter('r') === 6, 1000, 'both calls applied');
      stub.hold = false;
      stub.dropAll();
      await assert.rejects(without, { code: 'E_UNAVAILABLE' });
      assert.equal(await withIdem, 5, 'the reply the node gave the first time');
      assert.equal(stub.applied.get('k1'), 1);
      assert.equal(stub.framesWith((m) => m.idem === 'k1').length, 2, 'sent before and after the drop');
      assert.equal(stub.counter('r'), 6);
      assert.equal(stub.upgrades.length, 2);
    } finally {
      await client.close();
      stub.close();
    }
  });

  it('with autoIdem, every call in flight survives a drop', async () => {
    const stub = await startStub();
    const client = await connect({ url: stub.url, reconnect: fast, autoIdem: true });
    try {
      stub.hold = true;
      const calls = Array.from({ length: 20 }, () => client.call('Counter', 'auto', 'add', [1]));
      await until(() => stub.counter('auto') === 20, 1000, 'calls applied');
      stub.hold = false;
      stub.dropAll();
      const results = (await Promise.all(calls)) as number[];
      assert.deepEqual(results.sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.equal(stub.counter('auto'), 20, 'no call applied twice');
    } finally {
      await client.close();
      stub.close();
    }
  });

  it('calls made while reconnecting wait and are sent on the new connection', async () => {
    const stub = await startStub();
    const states: ClientState[] = [];
    const client = await connect({ url: stub.url, reconnect: { baseMs: 50, maxMs: 50 }, onStateChange: (s) => states.push(s) });
    try {
      stub.dropAll();
      await until(() => client.state === 'reconnecting', 1000, 'reconnecting');
      const p = client.call('Echo', 'k', 'echo', ['queued']);
      assert.equal(await p, 'queued');
      assert.deepEqual(states, ['open', 'reconnecting', 'open']);
    } finally {
      await client.close();
      stub.close();
    }
  });

  it('fails over to the next URL when its node goes away', async () => {
    const a = await startStub();
    const b = await startStub();
    const client = await connect({ urls: [a.url, b.url], reconnect: fast });
    try {
      assert.equal(await client.call('Echo', 'k', 'echo', ['a']), 'a');
      assert.equal(a.frames.length, 1);
      a.close();
      // Until the client sees the drop, a call would still go to the dying socket (and fail, having no idem key).
      await until(() => client.state !== 'open', 1000, 'drop noticed');
      assert.equal(await client.call('Echo', 'k', 'echo', ['b']), 'b');
      assert.equal(b.frames.length, 1);
    } finally {
      await client.close();
      a.close();
      b.close();
    }
  });

  it('connects to the second URL when the first refuses at start', async () => {
    const a = await startStub();
    const b = await startStub();
    a.close();
    const client = await connect({ urls: [a.url, b.url], reconnect: fast, connectTimeout: 2000 });
    try {
      assert.equal(await client.call('Echo', 'k', 'echo', ['b']), 'b');
      assert.equal(b.upgrades.length, 1);
    } finally {
      await client.close();
      b.close();
    }
  });

  it('gives up after reconnect.attempts and fails what is waiting with E_UNAVAILABLE', async () => {
    const stub = await startStub();
    const states: ClientState[] = [];
    const client = await connect({ url: stub.url, reconnect: { baseMs: 10, maxMs: 20, attempts: 3 }, onStateChange: (s) => states.push(s) });
    stub.hold = true;
    const p = client.call('Echo', 'k', 'echo', [1], { idem: 'x', timeout: 5000 });
    await until(() => stub.frames.length === 1, 1000, 'call sent');
    stub.close();
    await assert.rejects(p, (e: TroupeError) => e.code === 'E_UNAVAILABLE' && /gave up/.test(e.message));
    assert.equal(client.state, 'closed');
    assert.deepEqual(states, ['open', 'reconnecting', 'closed']);
    await assert.rejects(client.call('Echo', 'k', 'echo', [1]), { code: 'E_UNAVAILABLE' });
    await client.close();
  });

  it('with reconnect off, a drop fails calls in flight and closes the client', async () => {
    const stub = await startStub();
    const client = await connect({ url: stub.url, reconnect: false });
    try {
      stub.hold = true;
      const p = client.call('Echo', 'k', 'echo', [1], { idem: 'y' });
      await until(() => stub.frames.length === 1, 1000, 'call sent');
      stub.dropAll();
      await assert.rejects(p, { code: 'E_UNAVAILABLE' });
      assert.equal(client.state, 'closed');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(stub.upgrades.length, 1, 'no reconnect');
    } finally {
      await client.close();
      stub.close();
    }
  });
});

describe('client close()', () => {
  it('rejects pending calls with E_UNAVAILABLE and stops reconnecting', async () => {
    const stub = await startStub();
    const client = await connect({ url: stub.url, reconnect: fast });
    const pending = [client.call('Never', 'k', 'hang', []), client.call('Never', 'k', 'hang', [], { idem: 'z' })];
    const outcomes = Promise.allSettled(pending);
    await until(() => stub.frames.length >= 1, 1000, 'calls sent');
    await client.close();
    for (const o of await outcomes) {
      assert.equal(o.status, 'rejected');
      const e = (o as PromiseRejectedResult).reason as TroupeError;
      assert.ok(e.code === 'E_UNAVAILABLE' && /closed/.test(e.message));
    }
    assert.equal(client.state, 'closed');
    await assert.rejects(client.call('Echo', 'k', 'echo', [1]), { code: 'E_UNAVAILABLE' });
    assert.throws(() => client.tell('Echo', 'k', 'echo', [1]), { code: 'E_UNAVAILABLE' });
    await assert.rejects(client.subscribe('t', () => {}), { code: 'E_UNAVAILABLE' });
    await until(() => stub.openSockets === 0, 1000, 'socket closed on the node');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(stub.upgrades.length, 1, 'no reconnect after close');
    await client.close();
    stub.close();
  });

  it('close() during the first connect rejects connect() and the calls queued so far', async () => {
    const { TroupeClient } = await import('../client/index.js');
    const client = new TroupeClient({ url: 'ws://127.0.0.1:1/v1/ws', reconnect: fast });
    const p = client.call('Echo', 'k', 'echo', [1]);
    await client.close();
    await assert.rejects(p, { code: 'E_UNAVAILABLE' });
    await assert.rejects(client.ready, { code: 'E_UNAVAILABLE' });
  });
});
