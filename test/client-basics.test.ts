import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Actor } from '../actors/index.js';
import { connect, type TroupeClient } from '../client/index.js';
import { startStub, type ProtocolStub } from './fixtures/protocol-stub.js';

class Counter extends Actor<{ total: number }> {
  static expose = ['add', 'get'] as const;
  state = { total: 0 };
  add(n: number): number {
    return (this.state.total += n);
  }
  get(): number {
    return this.state.total;
  }
}

class Echo extends Actor {
  static expose = ['echo'] as const;
  echo<T>(x: T): T {
    return x;
  }
}

describe('client calls and batching', () => {
  let stub: ProtocolStub;
  let client: TroupeClient;
  before(async () => {
    stub = await startStub();
    client = await connect({ url: stub.url, timeout: 2000 });
  });
  after(async () => {
    await client.close();
    stub.close();
  });

  it('a typed proxy call resolves with the actor result', async () => {
    const total: number = await client.actor(Counter, 'typed').add(5);
    assert.equal(total, 5);
    assert.equal(await client.actor(Counter, 'typed').get(), 5);
  });

  it('a proxy by type name calls the same actor', async () => {
    const c = client.actor('Counter', 'by-name');
    assert.equal(await c.add!(2), 2);
    const typed = client.actor<typeof Counter>('Counter', 'by-name');
    assert.equal(await typed.add(3), 5);
  });

  it('the low-level call() takes the method name and an args array', async () => {
    assert.equal(await client.call(Counter, 'low', 'add', [7]), 7);
    assert.deepEqual(await client.call('Echo', 'e', 'echo', [{ a: [1, 'x'], b: null }]), { a: [1, 'x'], b: null });
  });

  it('calls issued in the same tick arrive as one frame holding an array', async () => {
    const before = stub.frames.length;
    const echo = client.actor(Echo, 'batch');
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => echo.echo(i)));
    assert.deepEqual(results, Array.from({ length: 50 }, (_, i) => i));
    const frames = stub.frames.slice(before);
    assert.equal(frames.length, 1, 'one frame for 50 calls');
    assert.ok(frames[0]!.binary, 'binary frame');
    const batch = frames[0]!.value as Record<string, unknown>[];
    assert.ok(Array.isArray(batch));
    assert.equal(batch.length, 50);
    assert.deepEqual(Object.keys(batch[0]!).sort(), ['actor', 'args', 'id', 'key', 'method', 'op', 'timeout']);
    assert.equal(batch[0]!.op, 'call');
    assert.equal(batch[0]!.actor, 'Echo');
  });

  it('a lone call is sent as a bare message, not an array', async () => {
    const before = stub.frames.length;
    await client.actor(Echo, 'lone').echo('x');
    const frames = stub.frames.slice(before);
    assert.equal(frames.length, 1);
    assert.ok(!Array.isArray(frames[0]!.value));
  });

  it('calls in different ticks go in different frames', async () => {
    const before = stub.frames.length;
    const p1 = client.actor(Echo, 'ticks').echo(1);
    await new Promise((r) => setTimeout(r, 5));
    const p2 = client.actor(Echo, 'ticks').echo(2);
    assert.deepEqual(await Promise.all([p1, p2]), [1, 2]);
    assert.equal(stub.frames.length - before, 2);
  });

  it('types follow the actor class (checked by the compiler; never runs)', () => {
    // The body only has to compile; `@ts-expect-error` fails the build if an error goes missing.
    const typesOnly = async (): Promise<void> => {
      const n: number = await client.actor(Counter, 'c').add(1);
      const m: number = await client.call(Counter, 'c', 'add', [1]);
      client.tell(Counter, 'c', 'add', [1]);
      // @ts-expect-error add takes a number
      await client.actor(Counter, 'c').add('one');
      // @ts-expect-error state is not an exposed method
      await client.actor(Counter, 'c').state;
      // @ts-expect-error get takes no arguments
      await client.call(Counter, 'c', 'get', [1]);
      // @ts-expect-error a result is a number, not a string
      const s: string = await client.actor<typeof Counter>('Counter', 'c').get();
      void [n, m, s];
    };
    assert.equal(typeof typesOnly, 'function');
  });

  it('awaiting a proxy does not call a method named then', async () => {
    const ref = client.actor(Echo, 'then');
    const before = stub.frames.length;
    assert.equal(await Promise.resolve(ref), ref);
    assert.equal(stub.frames.length, before);
  });
});

describe('frame limits', () => {
  let stub: ProtocolStub;
  before(async () => {
    stub = await startStub();
  });
  after(() => stub.close());

  it('a tick with more than maxBatch calls is split into frames of at most maxBatch', async () => {
    const client = await connect({ url: stub.url, maxBatch: 10 });
    try {
      const before = stub.frames.length;
      await Promise.all(Array.from({ length: 35 }, (_, i) => client.call('Echo', 'k', 'echo', [i])));
      const sizes = stub.frames.slice(before).map((f) => (Array.isArray(f.value) ? f.value.length : 1));
      assert.deepEqual(sizes, [10, 10, 10, 5]);
    } finally {
      await client.close();
    }
  });

  it('frames are cut at maxFrameBytes and a single oversized call fails with E_TOO_LARGE', async () => {
    const client = await connect({ url: stub.url, maxFrameBytes: 1024 });
    try {
      const before = stub.frames.length;
      const blob = 'x'.repeat(300);
      const results = await Promise.all(Array.from({ length: 8 }, () => client.call('Echo', 'k', 'echo', [blob])));
      assert.equal(results.length, 8);
      assert.ok(stub.frames.length - before >= 3, 'eight 300-byte calls need at least three 1 KiB frames');
      await assert.rejects(client.call('Echo', 'k', 'echo', ['y'.repeat(2000)]), { code: 'E_TOO_LARGE' });
    } finally {
      await client.close();
    }
  });

  it('a frame larger than the reused encode buffer goes out intact, and later frames too', async () => {
    const client = await connect({ url: stub.url });
    try {
      const big = 'z'.repeat(200 * 1024) + 'é';
      const [a, b] = await Promise.all([client.call('Echo', 'k', 'echo', [big]), client.call('Echo', 'k', 'echo', ['small'])]);
      assert.equal(a, big);
      assert.equal(b, 'small');
      assert.deepEqual(await Promise.all([client.call('Echo', 'k', 'echo', ['after']), client.call('Echo', 'k', 'echo', [big])]), ['after', big]);
    } finally {
      await client.close();
    }
  });

  it('a call whose arguments cannot be encoded fails alone; its batch-mates succeed', async () => {
    const client = await connect({ url: stub.url });
    try {
      const before = stub.frames.length;
      const good1 = client.call('Echo', 'k', 'echo', [1]);
      // Too large for msgpack's 64-bit integers: encoding throws.
      const bad = client.call('Echo', 'k', 'echo', [2n ** 70n]);
      const good2 = client.call('Echo', 'k', 'echo', [2]);
      await assert.rejects(bad, { code: 'E_BAD_REQUEST' });
      assert.deepEqual(await Promise.all([good1, good2]), [1, 2]);
      assert.equal(stub.frames.length - before, 1, 'the good calls still travel together');
    } finally {
      await client.close();
    }
  });
});
