/**
 * The Hazelcast engine against real members (started by test/fixtures/hazelcast.ts
 * on free loopback ports, stopped by PID): the shared Grid contract, then what
 * only a networked grid can get wrong: two nodes on one cluster, reconnects,
 * losing a member while writing, and losing the whole cluster.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'hazelcast-client';
import { isLost, type Grid, type RecordKey, type RecordWrite, type VersionedRecord } from '../grid/index.js';
import { HazelcastGrid } from '../grid/hazelcast/hazelcast-grid.js';
import { LastSeen } from '../grid/hazelcast/last-seen.js';
import type { MapSource } from '../grid/hazelcast/map-source.js';
import { RecordStore } from '../grid/hazelcast/records.js';
import { freePort } from '../runtime/cli/hazelcast/members.js';
import { type HazelcastFixture, startHazelcast, startTcpProxy, until } from './fixtures/hazelcast.js';
import { gridContract } from './grid-contract.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/** readRecords where no loss is expected: the records, or undefined. */
async function read(grid: Grid, keys: readonly RecordKey[]): Promise<(VersionedRecord | undefined)[]> {
  return (await grid.readRecords(keys)).map((r) => {
    assert.ok(!isLost(r), `unexpected loss: ${JSON.stringify(r)}`);
    return r;
  });
}

function codeOf(err: unknown): unknown {
  return (err as { code?: unknown }).code;
}

/** Awaits `promise`, expecting it to fail with `code` within `withinMs`. */
async function failsFast(promise: Promise<unknown>, code: string, withinMs: number, what: string): Promise<void> {
  const started = Date.now();
  await assert.rejects(promise, (err: unknown) => {
    assert.equal(codeOf(err), code, `${what}: expected ${code}, got ${String(err)}`);
    return true;
  });
  const took = Date.now() - started;
  assert.ok(took < withinMs, `${what} took ${took} ms to fail, expected under ${withinMs} ms`);
}

let contractCluster: HazelcastFixture | undefined;
gridContract(
  'hazelcast',
  async () => {
    contractCluster = await startHazelcast({ members: 1 });
    return new HazelcastGrid(contractCluster.gridOptions());
  },
  async () => {
    await contractCluster?.stop();
  },
  // By hand, as an operator (or a crash) would: a client of its own removes the record from its IMap.
  async (_grid, key) => {
    const client = await Client.newHazelcastClient({
      clusterName: contractCluster!.clusterName,
      network: { clusterMembers: [...contractCluster!.addresses] },
      properties: { 'hazelcast.logging.level': 'OFF' },
    });
    try {
      await (await client.getMap(`troupe.actor.${key.type}`)).delete(key.key);
    } finally {
      await client.shutdown();
    }
  },
);

describe('HazelcastGrid configuration and start-up', () => {
  test('a bad option stops construction with a TypeError that names it', () => {
    const good = { clusterName: 'c', members: ['127.0.0.1:5701'], connectTimeoutMs: 1000, invocationTimeoutMs: 1000 };
    assert.throws(() => new HazelcastGrid({ ...good, members: [] }), /'members'/);
    assert.throws(() => new HazelcastGrid({ ...good, members: ['localhost'] }), /'members'/);
    assert.throws(() => new HazelcastGrid({ ...good, invocationTimeoutMs: 0 }), /'invocationTimeoutMs'/);
    assert.throws(() => new HazelcastGrid({ ...good, clusterName: '' }), /'clusterName'/);
    assert.equal(new HazelcastGrid(good).health().ready, false);
  });

  test('start() with no member listening fails with E_UNAVAILABLE after connectTimeoutMs, not later', async () => {
    const port = await freePort();
    const grid = new HazelcastGrid({ clusterName: 'nobody', members: [`127.0.0.1:${port}`], connectTimeoutMs: 800, invocationTimeoutMs: 5000, logLevel: 'OFF' });
    await failsFast(grid.start(), 'E_UNAVAILABLE', 3_000, 'start()');
    assert.equal(grid.health().ready, false);
    await grid.close();
  });
});

describe('HazelcastGrid: two Troupe nodes on one cluster', () => {
  let hz: HazelcastFixture;
  let a: Grid;
  let b: Grid;

  before(async () => {
    hz = await startHazelcast({ members: 1 });
    a = new HazelcastGrid(hz.gridOptions());
    b = new HazelcastGrid(hz.gridOptions());
    await Promise.all([a.start(), b.start()]);
  });

  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await hz?.stop();
  });

  test('a node holding an older copy cannot overwrite the record another node updated', async () => {
    const type = 'TwoNodes';
    await a.commit([{ type, key: 'acct', expectedVersion: 0, data: bytes('v1 by a') }]);
    await read(a, [{ type, key: 'acct' }]);
    const [fromB] = await read(b, [{ type, key: 'acct' }]);
    assert.deepEqual(await b.commit([{ type, key: 'acct', expectedVersion: fromB!.version, data: bytes('v2 by b') }]), [{ ok: true, version: 2 }]);

    const [stale] = await a.commit([{ type, key: 'acct', expectedVersion: 1, data: bytes('v2 by a') }]);
    assert.ok(!stale!.ok && stale.conflict && stale.current?.version === 2 && text(stale.current.data) === 'v2 by b', 'a is told what b wrote');
    assert.deepEqual(await a.commit([{ type, key: 'acct', expectedVersion: 2, data: bytes('v3 by a') }]), [{ ok: true, version: 3 }]);
    const [staleB] = await b.commit([{ type, key: 'acct', expectedVersion: 2, data: bytes('v3 by b') }]);
    assert.ok(!staleB!.ok && staleB.conflict && staleB.current?.version === 3);
  });

  test("another node's hot-map write reaches this node's near cache", async () => {
    const ma = a.map('shared');
    const mb = b.map('shared');
    await mb.set('greeting', 'hello');
    assert.equal(await ma.get('greeting'), 'hello'); // now cached on a
    assert.equal(await ma.get('greeting'), 'hello');
    await mb.set('greeting', 'bonjour');
    // Eventually consistent by design (invalidations are batched, at most ~1 s): wait, bounded.
    const deadline = Date.now() + 5_000;
    let seen: unknown;
    while ((seen = await ma.get('greeting')) !== 'bonjour' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(seen, 'bonjour');
  });

  test('increments from two nodes are neither lost nor handed out twice', async () => {
    const name = 'two-node-counter';
    const results = await Promise.all([
      ...Array.from({ length: 100 }, () => a.counter(name).addAndGet(1)),
      ...Array.from({ length: 100 }, () => b.counter(name).addAndGet(1)),
    ]);
    assert.deepEqual(
      [...results].sort((x, y) => x - y),
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    assert.equal(await b.counter(name).get(), 200);
  });

  test('a lock held on one node times out a taker on the other, then passes to it on release', async () => {
    const held = await a.lock('two-node-lock', 1_000);
    await assert.rejects(b.lock('two-node-lock', 300), (err: unknown) => codeOf(err) === 'E_TIMEOUT');
    const waiting = b.lock('two-node-lock', 5_000);
    await new Promise((r) => setTimeout(r, 100));
    await held.release();
    const got = await waiting;
    await got.release();
  });
});

describe('HazelcastGrid: reading a record while another node creates it', () => {
  let hz: HazelcastFixture;
  let client: Client;

  before(async () => {
    hz = await startHazelcast({ members: 1 });
    client = await Client.newHazelcastClient({
      clusterName: hz.clusterName,
      network: { clusterMembers: [...hz.addresses] },
      properties: { 'hazelcast.logging.level': 'OFF' },
    });
  });
  after(async () => {
    await client?.shutdown();
    await hz?.stop();
  });

  test('a read whose record fetch ran before the create and whose marker fetch ran after it finds the record, not a loss', async () => {
    // The worst order, made to happen: the reader's record get runs on the
    // member before the creator's putIfAbsent, its marker get after the
    // creator's marker write. The real maps answer; only the timing is held.
    const type = 'Racing';
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let recordGets = 0;
    const held: MapSource = async (name) => {
      const map = await client.getMap<string, Buffer>(name);
      if (name === `troupe.actor.${type}`) {
        return new Proxy(map, {
          get: (target, prop) =>
            prop === 'get'
              ? async (key: string) => {
                  const v = await target.get(key);
                  if (++recordGets === 1) await gate; // answered "absent", handed back late
                  return v;
                }
              : Reflect.get(target, prop),
        });
      }
      if (name === `troupe.exists.${type}`) {
        return new Proxy(map, {
          get: (target, prop) =>
            prop === 'get' ? async (key: string) => (await gate, target.get(key)) : Reflect.get(target, prop),
        });
      }
      return map;
    };
    const reader = new RecordStore(held, new LastSeen(100), hz.clusterName);
    const creator = new RecordStore(async (name) => client.getMap<string, Buffer>(name), new LastSeen(100), hz.clusterName);

    const reading = reader.read([{ type, key: 'k' }]);
    while (recordGets === 0) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(await creator.commit([{ type, key: 'k', expectedVersion: 0, data: bytes('created') }]), [{ ok: true, version: 1 }]);
    open();
    const [got] = await reading;
    assert.ok(got !== undefined && !isLost(got), `read as ${JSON.stringify(got)}`);
    assert.equal(got.version, 1);
    assert.equal(text(got.data), 'created');
    assert.equal(recordGets, 2, 'the record is read a second time only because its marker was seen');
  });

  test('a record really gone while its marker stays still reads as lost', async () => {
    const type = 'Gone';
    const store = new RecordStore(async (name) => client.getMap<string, Buffer>(name), new LastSeen(100), hz.clusterName);
    await store.commit([{ type, key: 'k', expectedVersion: 0, data: bytes('x') }]);
    await (await client.getMap(`troupe.actor.${type}`)).delete('k');
    const [got] = await store.read([{ type, key: 'k' }]);
    assert.ok(got !== undefined && isLost(got), `read as ${JSON.stringify(got)}`);
  });
});

describe('HazelcastGrid across a client reconnect', () => {
  let hz: HazelcastFixture;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let grid: HazelcastGrid;

  before(async () => {
    hz = await startHazelcast({ members: 1 });
    proxy = await startTcpProxy(hz.members[0]!.port);
    // One connection, through the proxy, so dropping the proxy's sockets disconnects the client.
    grid = new HazelcastGrid(hz.gridOptions({ members: [proxy.address], smartRouting: false, reconnectBackoffMaxMs: 300 }));
    await grid.start();
  });

  after(async () => {
    await grid?.close();
    await proxy?.close();
    await hz?.stop();
  });

  test('a commit cut by a reconnect can be retried as is: each write lands exactly once, earlier records survive', async (t) => {
    const type = 'Reconnect';
    const keys = Array.from({ length: 64 }, (_, i) => `k${i}`);
    const created = await grid.commit(keys.map((key) => ({ type, key, expectedVersion: 0, data: bytes(`${key}:v1`) })));
    assert.ok(created.every((o) => o.ok));

    const updates: RecordWrite[] = keys.map((key) => ({ type, key, expectedVersion: 1, data: bytes(`${key}:v2`) }));
    const cut = grid.commit(updates);
    proxy.dropConnections();
    let outcomes = await cut.catch((err: unknown) => {
      assert.equal(codeOf(err), 'E_UNAVAILABLE', String(err));
      return undefined;
    });

    await until(() => grid.health().ready, 15_000, 'the client to reconnect');
    t.diagnostic(outcomes === undefined ? 'the cut commit failed with E_UNAVAILABLE and was retried' : 'the cut commit completed by itself (client redo)');
    if (outcomes === undefined) {
      // Some writes may have landed before the cut; the same batch again must still succeed for every one.
      outcomes = await grid.commit(updates);
    }
    assert.deepEqual(outcomes, keys.map(() => ({ ok: true, version: 2 })));
    const recs = await read(grid, keys.map((key) => ({ type, key })));
    recs.forEach((r, i) => {
      assert.equal(r?.version, 2);
      assert.equal(text(r!.data), `${keys[i]}:v2`);
    });
    // And ordinary work goes on.
    const next = await grid.commit(keys.map((key) => ({ type, key, expectedVersion: 2, data: bytes(`${key}:v3`) })));
    assert.ok(next.every((o) => o.ok && o.version === 3));
  });
});

describe('HazelcastGrid on two members with backup-count 1', () => {
  let hz: HazelcastFixture;
  let grid: HazelcastGrid;

  before(async () => {
    hz = await startHazelcast({ members: 2 });
    grid = new HazelcastGrid(hz.gridOptions({ invocationTimeoutMs: 20_000 }));
    await grid.start();
  });

  after(async () => {
    await grid?.close();
    await hz?.stop();
  });

  test('kill -9 of one member while writing loses no acknowledged write', async (t) => {
    assert.match(grid.health().detail ?? '', /2 members/);
    const type = 'Survivor';
    const WRITERS = 4;
    const KEYS_PER_WRITER = 64;
    const acked = new Map<string, { version: number; data: string }>();
    const expected = new Map<string, number>();
    let killed = false;
    let ackedAfterKill = 0;
    let failedBatches = 0;

    const writer = async (w: number): Promise<void> => {
      const keys = Array.from({ length: KEYS_PER_WRITER }, (_, i) => `w${w}k${i}`);
      const deadline = Date.now() + 30_000;
      let afterKillRounds = 0;
      // Bounded by rounds and time: until 15 rounds after the kill, at most 500 rounds, 30 s.
      for (let round = 0; round < 500 && afterKillRounds < 15 && Date.now() < deadline; round++) {
        if (killed) afterKillRounds++;
        const writes = keys.map((key) => ({ type, key, expectedVersion: expected.get(key) ?? 0, data: bytes(`${key}@${round}`) }));
        try {
          const outcomes = await grid.commit(writes);
          outcomes.forEach((o, i) => {
            const key = keys[i]!;
            if (o.ok) {
              acked.set(key, { version: o.version, data: text(writes[i]!.data) });
              expected.set(key, o.version);
              if (killed) ackedAfterKill++;
            } else if (o.conflict && o.current !== undefined) {
              expected.set(key, o.current.version);
            }
          });
        } catch (err) {
          // Indeterminate (some writes may have landed): resync from the grid and go on.
          assert.equal(codeOf(err), 'E_UNAVAILABLE', String(err));
          failedBatches++;
          // Back off as the runtime would: wait (bounded) for the grid to report ready again.
          await until(() => grid.health().ready, 15_000, 'the grid to be ready again');
          const recs = await read(grid, keys.map((key) => ({ type, key }))).catch(() => undefined);
          recs?.forEach((r, i) => expected.set(keys[i]!, r?.version ?? 0));
        }
      }
    };

    const running = Array.from({ length: WRITERS }, (_, w) => writer(w));
    // Let the writers get going, then kill one member with writes in flight.
    await until(() => acked.size === WRITERS * KEYS_PER_WRITER && [...acked.values()].every((a) => a.version >= 3), 20_000, 'writers to warm up');
    hz.kill(0);
    killed = true;
    await Promise.all(running);

    assert.ok(ackedAfterKill > 0, 'writes go on against the surviving member');
    const keys = [...acked.keys()];
    const recs = await read(grid, keys.map((key) => ({ type, key })));
    let lost = 0;
    recs.forEach((r, i) => {
      const a = acked.get(keys[i]!)!;
      // Only a write whose commit failed may have landed after the last acknowledged one.
      if (r === undefined || r.version < a.version || (r.version === a.version && text(r.data) !== a.data)) lost++;
    });
    t.diagnostic(`${acked.size} records, ${ackedAfterKill} writes acknowledged after the kill, ${failedBatches} batches failed with E_UNAVAILABLE`);
    assert.equal(lost, 0, `${lost} of ${keys.length} acknowledged writes lost (${failedBatches} batches failed)`);
  });
});

describe('HazelcastGrid when its only member goes down and comes back', () => {
  let hz: HazelcastFixture;
  let grid: HazelcastGrid;
  let other: HazelcastGrid;

  before(async () => {
    hz = await startHazelcast({ members: 1 });
    // A long invocation timeout: failing fast must not depend on it. `grid`
    // gives up reconnecting after 1 s, shorter than the member's restart, so
    // it recovers through a replacement client; `other` reconnects in place.
    grid = new HazelcastGrid(hz.gridOptions({ invocationTimeoutMs: 30_000, connectTimeoutMs: 1_000, reconnectBackoffMaxMs: 300 }));
    other = new HazelcastGrid(hz.gridOptions({ invocationTimeoutMs: 30_000, connectTimeoutMs: 20_000, reconnectBackoffMaxMs: 300 }));
    await Promise.all([grid.start(), other.start()]);
  });

  after(async () => {
    await Promise.all([grid?.close(), other?.close()]);
    await hz?.stop();
  });

  test('operations fail fast with E_UNAVAILABLE and health is not ready, then succeed again once the member is back', async () => {
    const type = 'Outage';
    assert.deepEqual(await grid.commit([{ type, key: 'before', expectedVersion: 0, data: bytes('x') }]), [{ ok: true, version: 1 }]);

    // A lock wait in progress when the member dies ends at once, not after its 20 s timeout.
    const held = await other.lock('outage-lock', 1_000);
    const waiting = grid.lock('outage-lock', 20_000);
    await new Promise((r) => setTimeout(r, 100));

    hz.kill(0);
    await failsFast(waiting, 'E_UNAVAILABLE', 3_000, 'a pending lock wait');
    await until(() => !grid.health().ready, 5_000, 'health to report the outage');
    assert.match(grid.health().detail ?? '', /reconnecting/);
    void held.release().catch(() => {});

    await failsFast(grid.readRecords([{ type, key: 'before' }]), 'E_UNAVAILABLE', 200, 'readRecords');
    await failsFast(grid.commit([{ type, key: 'during', expectedVersion: 0, data: bytes('x') }]), 'E_UNAVAILABLE', 200, 'commit');
    await failsFast(grid.map('m').set('k', 1), 'E_UNAVAILABLE', 200, 'map.set');
    await failsFast(grid.counter('c').addAndGet(1), 'E_UNAVAILABLE', 200, 'counter.addAndGet');
    await failsFast(grid.lock('l', 5_000), 'E_UNAVAILABLE', 200, 'lock');

    // Longer than grid's 1 s reconnect window: its client shuts down and is replaced.
    await new Promise((r) => setTimeout(r, 1_500));
    await failsFast(grid.readRecords([{ type, key: 'before' }]), 'E_UNAVAILABLE', 200, 'readRecords while the client is replaced');
    await hz.restart(0);
    await until(() => grid.health().ready && other.health().ready, 30_000, 'both grids to reconnect');
    assert.deepEqual(await other.commit([{ type, key: 'other', expectedVersion: 0, data: bytes('z') }]), [{ ok: true, version: 1 }]);
    // The restarted member is a new, empty cluster: start again from version 0.
    assert.deepEqual(await grid.commit([{ type, key: 'after', expectedVersion: 0, data: bytes('y') }]), [{ ok: true, version: 1 }]);
    const [rec] = await read(grid, [{ type, key: 'after' }]);
    assert.equal(text(rec!.data), 'y');
    await grid.map('m').set('k', 2);
    assert.equal(await grid.map('m').get('k'), 2);
    assert.equal(await grid.counter('c').addAndGet(3), 3);
    const lock = await grid.lock('l', 1_000);
    await lock.release();
  });
});
