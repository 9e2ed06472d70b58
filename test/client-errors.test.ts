import assert from 'node:assert/strict';
import { createServer, type Socket as NetSocket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect, TroupeError, type TroupeClient } from '../client/index.js';
import { startStub, type ProtocolStub } from './fixtures/protocol-stub.js';

describe('client timeouts and errors', () => {
  let stub: ProtocolStub;
  let client: TroupeClient;
  before(async () => {
    stub = await startStub();
    client = await connect({ url: stub.url, timeout: 1000 });
  });
  after(async () => {
    await client.close();
    stub.close();
  });

  it('a call with no reply fails with E_TIMEOUT close to its own timeout', async () => {
    const start = performance.now();
    await assert.rejects(client.call('Never', 'k', 'hang', [], { timeout: 60 }), (err: unknown) => {
      assert.ok(err instanceof TroupeError);
      assert.equal(err.code, 'E_TIMEOUT');
      return true;
    });
    const took = performance.now() - start;
    assert.ok(took >= 59 && took < 210, `timed out after ${took.toFixed(1)} ms, expected about 60`);
  });

  // Lower bounds are exact (never early); upper bounds leave room for a loaded 2-core CI machine.
  it('calls with different timeouts each expire on time, never early', async () => {
    const start = performance.now();
    const expiredAt = new Map<number, number[]>();
    const mk = (ms: number) =>
      client.call('Never', 'k', 'hang', [], { timeout: ms }).catch((e: TroupeError) => {
        assert.equal(e.code, 'E_TIMEOUT');
        expiredAt.set(ms, [...(expiredAt.get(ms) ?? []), performance.now() - start]);
      });
    await Promise.all([mk(120), mk(40), mk(80), mk(40)]);
    for (const [ms, times] of expiredAt) {
      for (const t of times) assert.ok(t >= ms - 1 && t < ms + 150, `${ms} ms call expired at ${t.toFixed(1)} ms`);
    }
    assert.equal(expiredAt.get(40)?.length, 2);
  });

  it('the timeout is sent to the node with the call', async () => {
    await client.call('Echo', 'k', 'echo', ['t'], { timeout: 777 });
    assert.equal(stub.framesWith((m) => m.timeout === 777).length, 1);
  });

  it('a reply arriving after the timeout is ignored', async () => {
    await assert.rejects(client.call('Slow', 'k', 'wait', [50], { timeout: 20 }), { code: 'E_TIMEOUT' });
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(await client.call('Echo', 'k', 'echo', ['still fine']), 'still fine');
  });

  it("a node error becomes a TroupeError with the node's code, message and details", async () => {
    await assert.rejects(client.call('Fail', 'k', 'with', ['E_ACTOR_FAILED', 'boom', { field: 'x' }]), (err: unknown) => {
      assert.ok(err instanceof TroupeError);
      assert.equal(err.code, 'E_ACTOR_FAILED');
      assert.equal(err.message, 'boom');
      assert.deepEqual(err.details, { field: 'x' });
      return true;
    });
    await assert.rejects(client.call('Nobody', 'k', 'x', []), { code: 'E_UNKNOWN_ACTOR' });
  });

  it('an error with a null id goes to onError, not to any call', async () => {
    const errors: Error[] = [];
    const c = await connect({ url: stub.url, onError: (e) => errors.push(e) });
    try {
      // Fail.orphan answers with an error whose id is null, as a node does for a frame it cannot read.
      await assert.rejects(c.call('Fail', 'k', 'orphan', [], { timeout: 50 }), { code: 'E_TIMEOUT' });
      assert.equal(errors.length, 1);
      assert.equal((errors[0] as TroupeError).code, 'E_BAD_REQUEST');
    } finally {
      await c.close();
    }
  });

  it('bad options are refused with a TypeError naming the option', () => {
    assert.throws(() => client.call('Echo', 'k', 'echo', [], { timeout: -1 }), /option timeout/);
    assert.throws(() => client.call('Echo', 'k', 'echo', [], { idem: '' }), /option idem/);
    assert.throws(() => client.call('Echo', 'k', 'echo', 'nope' as never), /args must be an array/);
  });
});

describe('client option validation', () => {
  it('connect() refuses bad options before dialling', async () => {
    await assert.rejects(connect({} as never), /exactly one of option url/);
    await assert.rejects(connect({ url: 'http://127.0.0.1:1/v1/ws' }), /ws:\/\/ or wss:\/\//);
    await assert.rejects(connect({ url: 'ws://127.0.0.1:1/v1/ws', timeout: 0 }), /option timeout/);
    await assert.rejects(connect({ url: 'ws://127.0.0.1:1/v1/ws', retry: { baseMs: 100, maxMs: 10 } }), /retry.maxMs/);
  });

  it('connect() to a port nobody listens on fails with E_UNAVAILABLE after connectTimeout', async () => {
    const start = Date.now();
    await assert.rejects(connect({ url: 'ws://127.0.0.1:1/v1/ws', connectTimeout: 300, reconnect: { baseMs: 20, maxMs: 50 } }), { code: 'E_UNAVAILABLE' });
    const took = Date.now() - start;
    assert.ok(took >= 280 && took < 1000, `gave up after ${took} ms`);
  });
});

describe('client handshake', () => {
  it('a node that accepts TCP but never answers the upgrade fails connect() at connectTimeout, and the next URL is tried', async () => {
    const held: NetSocket[] = [];
    const silent = createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const start = Date.now();
      await assert.rejects(connect({ url: `ws://127.0.0.1:${port}/v1/ws`, connectTimeout: 300 }), { code: 'E_UNAVAILABLE' });
      const took = Date.now() - start;
      assert.ok(took >= 280 && took < 1000, `gave up after ${took} ms`);

      const stub = await startStub();
      try {
        // The per-dial handshake bound is the call timeout; past it the client moves on.
        const client = await connect({ urls: [`ws://127.0.0.1:${port}/v1/ws`, stub.url], timeout: 200, connectTimeout: 2000 });
        assert.equal(await client.call('Echo', 'k', 'echo', ['next']), 'next');
        await client.close();
      } finally {
        stub.close();
      }
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});

describe('client retries', () => {
  let stub: ProtocolStub;
  before(async () => {
    stub = await startStub();
  });
  after(() => stub.close());

  it('retries E_OVERLOADED and E_UNAVAILABLE when the call has an idem key', async () => {
    const client = await connect({ url: stub.url, retry: { attempts: 3, baseMs: 5, maxMs: 20 } });
    try {
      assert.equal(await client.call('Flaky', 'k', 'call', [2, 'E_OVERLOADED'], { idem: 'r1' }), 3);
      assert.equal(await client.call('Flaky', 'k', 'call', [1, 'E_UNAVAILABLE'], { idem: 'r2' }), 2);
      assert.equal(stub.framesWith((m) => m.idem === 'r1').length, 3);
    } finally {
      await client.close();
    }
  });

  it('gives up after the configured attempts with the last error', async () => {
    const client = await connect({ url: stub.url, retry: { attempts: 2, baseMs: 5, maxMs: 20 } });
    try {
      await assert.rejects(client.call('Flaky', 'k', 'call', [5, 'E_OVERLOADED'], { idem: 'r3' }), { code: 'E_OVERLOADED' });
      assert.equal(stub.framesWith((m) => m.idem === 'r3').length, 3, 'first try and two retries');
    } finally {
      await client.close();
    }
  });

  it('never retries a call without an idem key', async () => {
    const client = await connect({ url: stub.url, retry: { attempts: 3, baseMs: 5, maxMs: 20 } });
    try {
      await assert.rejects(client.call('Flaky', 'no-idem', 'call', [1, 'E_OVERLOADED']), { code: 'E_OVERLOADED' });
      assert.equal(stub.framesWith((m) => m.key === 'no-idem').length, 1);
    } finally {
      await client.close();
    }
  });

  it('never retries E_ACTOR_FAILED, even with an idem key', async () => {
    const client = await connect({ url: stub.url, retry: { attempts: 3, baseMs: 5, maxMs: 20 } });
    try {
      await assert.rejects(client.call('Flaky', 'k', 'call', [1, 'E_ACTOR_FAILED'], { idem: 'r4' }), { code: 'E_ACTOR_FAILED' });
      assert.equal(stub.framesWith((m) => m.idem === 'r4').length, 1);
    } finally {
      await client.close();
    }
  });

  it('autoIdem gives every call a distinct key, so every call is retried', async () => {
    const client = await connect({ url: stub.url, autoIdem: true, retry: { attempts: 3, baseMs: 5, maxMs: 20 } });
    try {
      const [a, b] = await Promise.all([client.call('Flaky', 'auto', 'call', [1, 'E_OVERLOADED']), client.call('Flaky', 'auto', 'call', [1, 'E_OVERLOADED'])]);
      assert.deepEqual([a, b], [2, 2]);
      const keys = new Set(stub.framesWith((m) => m.key === 'auto').flatMap((f) => (Array.isArray(f.value) ? f.value : [f.value]).map((m) => (m as Record<string, unknown>).idem)));
      assert.equal(keys.size, 2);
      for (const k of keys) assert.match(String(k), new RegExp(`^${client.clientId}-`));
    } finally {
      await client.close();
    }
  });

  it('a retry that cannot finish before the deadline fails at once', async () => {
    const client = await connect({ url: stub.url, retry: { attempts: 3, baseMs: 500, maxMs: 500 } });
    try {
      const start = Date.now();
      await assert.rejects(client.call('Flaky', 'k', 'call', [1, 'E_OVERLOADED'], { idem: 'r5', timeout: 100 }), { code: 'E_OVERLOADED' });
      assert.ok(Date.now() - start < 100);
    } finally {
      await client.close();
    }
  });
});

describe('client backpressure', () => {
  it('past maxPending calls, new calls fail with E_OVERLOADED at once', async () => {
    const stub = await startStub();
    const client = await connect({ url: stub.url, maxPending: 5 });
    try {
      const hung = Array.from({ length: 5 }, () => client.call('Never', 'k', 'hang', [], { timeout: 200 }).catch((e: TroupeError) => e.code));
      await assert.rejects(client.call('Echo', 'k', 'echo', [1]), { code: 'E_OVERLOADED' });
      assert.throws(() => {
        for (let i = 0; i < 10; i++) client.tell('Echo', 'k', 'echo', [i]);
      }, /maxPending/);
      assert.deepEqual(await Promise.all(hung), Array(5).fill('E_TIMEOUT'));
      assert.equal(await client.call('Echo', 'k', 'echo', [1]), 1, 'room again once calls finish');
    } finally {
      await client.close();
      stub.close();
    }
  });
});
