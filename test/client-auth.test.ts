import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import WS from 'ws';
import { connect } from '../client/index.js';
import { startStub, until } from './fixtures/protocol-stub.js';

describe('client auth', () => {
  it('sends a string token as an Authorization: Bearer header in Node', async () => {
    const stub = await startStub({ token: 's3cret' });
    const client = await connect({ url: stub.url, token: 's3cret' });
    try {
      assert.equal(stub.upgrades[0]!.authorization, 'Bearer s3cret');
      assert.equal(stub.upgrades[0]!.query, '', 'not in the URL');
      assert.equal(await client.call('Echo', 'k', 'echo', [1]), 1);
    } finally {
      await client.close();
      stub.close();
    }
  });

  it('calls a token function before every connect, so a reconnect can use a fresh token', async () => {
    const stub = await startStub();
    let n = 0;
    const client = await connect({ url: stub.url, token: async () => `t${++n}`, reconnect: { baseMs: 10, maxMs: 20 } });
    try {
      stub.dropAll();
      await until(() => stub.upgrades.length === 2 && client.state === 'open', 2000, 'reconnect');
      assert.deepEqual(
        stub.upgrades.map((u) => u.authorization),
        ['Bearer t1', 'Bearer t2'],
      );
    } finally {
      await client.close();
      stub.close();
    }
  });

  it('a refused token fails connect() with E_UNAUTHORIZED without waiting for connectTimeout', async () => {
    const stub = await startStub({ token: 'right' });
    try {
      const start = Date.now();
      await assert.rejects(connect({ url: stub.url, token: 'wrong', connectTimeout: 5000 }), { code: 'E_UNAUTHORIZED' });
      assert.ok(Date.now() - start < 1000);
      assert.equal(stub.upgrades.length, 1, 'no second try with the same bad token');
    } finally {
      stub.close();
    }
  });

  it('with a standard WebSocket (browser-style), the token travels as ?token= and frames decode from ArrayBuffers', async () => {
    const stub = await startStub({ token: 'q t&x' });
    const client = await connect({ url: stub.url, token: 'q t&x', WebSocket: WS as unknown as typeof globalThis.WebSocket });
    try {
      assert.equal(new URLSearchParams(stub.upgrades[0]!.query).get('token'), 'q t&x');
      assert.equal(stub.upgrades[0]!.authorization, '');
      const results = await Promise.all([client.call('Echo', 'k', 'echo', [{ a: 1 }]), client.call('Counter', 'b', 'add', [2])]);
      assert.deepEqual(results, [{ a: 1 }, 2]);
      const got: unknown[] = [];
      await client.subscribe('t', (d) => got.push(d));
      stub.publish('t', 'ev');
      await until(() => got.length === 1, 1000, 'event');
    } finally {
      await client.close();
      stub.close();
    }
  });
});
