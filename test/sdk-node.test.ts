/** The SDK against a real node: typed proxies, subscriptions, reconnect with idem re-send. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, TroupeError } from '../client/index.js';
import { Counter } from '../examples/counter/counter.js';
import { Account } from '../examples/bank/account.js';
import { Room, type Post } from '../examples/chat/room.js';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';
import { Log } from './fixtures/test-actors.js';
import { EmbeddedGrid } from '../grid/embedded/embedded-grid.js';

describe('SDK against a node', () => {
  let node: TroupeNode;
  let url: string;

  before(async () => {
    node = await startNode();
    url = `ws://127.0.0.1:${node.port}/v1/ws`;
  });
  after(async () => {
    await node.stop();
  });

  test('typed proxies call the examples', async () => {
    const client = await connect({ url });
    try {
      assert.equal(await client.actor(Counter, 'sdk-c').add(5), 5);
      assert.equal(await client.actor(Counter, 'sdk-c').add(2), 7);
      assert.equal(await client.actor(Counter, 'sdk-c').get(), 7);
      assert.equal(await client.actor(Account, 'sdk-a').deposit(100), 100);
      assert.equal(await client.actor(Account, 'sdk-a').withdraw(30), 70);
      await assert.rejects(client.actor(Account, 'sdk-a').withdraw(1000), (e: TroupeError) => e.code === 'E_ACTOR_FAILED' && e.message.includes('INSUFFICIENT_FUNDS'));
      await assert.rejects(client.actor(Account, 'sdk-a').deposit(1.5), (e: TroupeError) => e.code === 'E_ACTOR_FAILED');
      await assert.rejects(client.actor(Account, 'sdk-a').deposit(-5), (e: TroupeError) => e.code === 'E_ACTOR_FAILED');
      assert.equal(await client.actor(Account, 'sdk-a').balance(), 70);
    } finally {
      await client.close();
    }
  });

  test('1000 calls in flight from one client all land, in order per actor', async () => {
    const client = await connect({ url });
    try {
      const calls = Array.from({ length: 1000 }, (_, i) => client.actor(Counter, `many-${i % 10}`).add(1));
      const results = await Promise.all(calls);
      for (let k = 0; k < 10; k++) {
        const mine = results.filter((_, i) => i % 10 === k);
        assert.deepEqual(mine, Array.from({ length: 100 }, (_, i) => i + 1));
      }
    } finally {
      await client.close();
    }
  });

  test('chat: history keeps the last 100 posts oldest first, subscribers get each post', async () => {
    const client = await connect({ url });
    try {
      const seen: Post[] = [];
      const sub = await client.subscribe<Post>('room:sdk', (p) => seen.push(p));
      for (let i = 0; i < 105; i++) await client.actor(Room, 'sdk').post('bob', `m${i}`);
      const history = await client.actor(Room, 'sdk').history();
      assert.equal(history.length, 100);
      assert.equal(history[0]!.text, 'm5');
      assert.equal(history[99]!.text, 'm104');
      for (let i = 0; i < 50 && seen.length < 105; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(seen.length, 105);
      assert.deepEqual(seen.map((p) => p.text), Array.from({ length: 105 }, (_, i) => `m${i}`));
      await sub.unsubscribe();
    } finally {
      await client.close();
    }
  });

  test('calls in flight when a node goes away are re-sent to the next node and applied once', async () => {
    // Two nodes on one grid; the client is on the first when it stops with calls in flight.
    const grid = new EmbeddedGrid();
    await grid.start();
    const a = await startNode([], { grid });
    const b = await startNode([], { grid });
    const client = await connect({ urls: [`ws://127.0.0.1:${a.port}/v1/ws`, `ws://127.0.0.1:${b.port}/v1/ws`], autoIdem: true, retry: { attempts: 10 }, timeout: 10_000 });
    try {
      assert.equal(await client.actor(Counter, 'moved').add(1), 1);
      const inflight = Array.from({ length: 20 }, (_, i) => client.actor(Log, 'moved-log').slowAppend(i, 50));
      await new Promise((r) => setTimeout(r, 20));
      await a.stop(100);
      const lengths = await Promise.all(inflight);
      const items = (await client.actor(Log, 'moved-log').items()) as number[];
      // Every call answered and each value appended exactly once. Concurrent calls
      // retried after a failover may land in another order: only exactly-once holds.
      assert.deepEqual([...items].sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i));
      assert.deepEqual([...lengths].sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i + 1));
      assert.equal(await client.actor(Counter, 'moved').add(1), 2);
    } finally {
      await client.close();
      await b.stop();
      await a.stop();
      await grid.close();
    }
  });
});
