/** The durable tier's small pure parts: the CLI's flags, URLs, the quorum rule, the durability summary. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SplitBrainProtectionError } from 'hazelcast-client';
import { summarize } from '../grid/hazelcast/durability-watch.js';
import { QuorumProbe, QuorumWatch } from '../grid/hazelcast/quorum-watch.js';
import { Errors, TroupeError } from '../protocol/errors.js';
import { parseDurable } from '../runtime/cli/durable.js';
import { parsePostgresUrl, quorumFor, storeEnvironment, storeProperties } from '../runtime/cli/hazelcast/member-store.js';

describe('durable tier units', () => {
  test('a split-brain refusal makes the grid not ready until an operation succeeds', () => {
    const w = new QuorumWatch();
    assert.equal(w.refusing(1000), undefined);
    w.failed(new Error('connection refused'), 1000);
    assert.equal(w.refusing(1001), undefined, 'other failures say nothing about the quorum');
    // As the grid sees it: wrapped as E_UNAVAILABLE with the client's error as the cause.
    const wrapped = new TroupeError('E_UNAVAILABLE', Errors.unavailable('x').message, { cause: new SplitBrainProtectionError('below quorum') });
    w.failed(wrapped, 2000);
    assert.match(w.refusing(2500) ?? '', /split-brain quorum/);
    w.succeeded(3000);
    assert.equal(w.refusing(3001), undefined);
    w.failed(new SplitBrainProtectionError('below quorum'), 4000);
    assert.ok(w.refusing(60_000) !== undefined, 'no operation tried is no proof: it holds until one succeeds');
    w.succeeded(60_001);
    assert.equal(w.refusing(60_002), undefined);
  });

  test('while refusing, the probe reads on its own until one read succeeds, then stops', async () => {
    const w = new QuorumWatch();
    let probes = 0;
    const answers = [false, false, true];
    const probe = new QuorumProbe(w, async () => {
      const ok = answers[probes++] ?? true;
      if (ok) w.succeeded();
      else w.failed(new SplitBrainProtectionError('below quorum'));
    }, 20);
    w.failed(new SplitBrainProtectionError('below quorum'));
    probe.arm();
    probe.arm();
    for (const by = Date.now() + 2000; w.refusing() !== undefined && Date.now() < by; ) await new Promise((r) => setTimeout(r, 10));
    assert.equal(w.refusing(), undefined, 'ready again after the third probe succeeded');
    assert.equal(probes, 3, 'one probe at a time, none after the success was seen');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(probes, 3, 'stopped');
    probe.stop();
  });

  test('quorum: a strict majority from three members on, off for one or two', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(quorumFor), [0, 0, 2, 3, 3, 4, 4]);
  });

  test('the member gets the store on its command line, and its password only in its environment', () => {
    const store = { jdbcUrl: 'jdbc:postgresql://db:5432/troupe', user: 'app', password: 's3cret', mode: 'write-behind' as const, writeDelaySeconds: 2 };
    const flags = storeProperties(store, 2);
    assert.ok(flags.includes('-Dtroupe.store.enabled=true') && flags.includes('-Dtroupe.store.write-delay-seconds=2') && flags.includes('-Dtroupe.quorum=2'));
    assert.ok(!flags.some((f) => f.includes('s3cret')), 'no password in argv');
    assert.deepEqual(storeEnvironment(store), { TROUPE_STORE_PASSWORD: 's3cret' });
    const none = storeProperties(undefined, 0);
    assert.ok(none.includes('-Dtroupe.store.enabled=false') && none.includes('-Dtroupe.quorum.enabled=false') && none.includes('-Dtroupe.quorum=2'));
    assert.ok(storeProperties({ ...store, mode: 'write-through' }, 0).includes('-Dtroupe.store.write-delay-seconds=0'));
  });

  test('a postgres:// URL becomes a JDBC URL and credentials', () => {
    assert.deepEqual(parsePostgresUrl('postgres://app:p%40ss@db.example:6432/state?sslmode=require'), {
      jdbcUrl: 'jdbc:postgresql://db.example:6432/state?sslmode=require', user: 'app', password: 'p@ss', host: 'db.example', port: 6432, database: 'state',
    });
    assert.equal(parsePostgresUrl('postgresql://db/x').jdbcUrl, 'jdbc:postgresql://db:5432/x');
    assert.throws(() => parsePostgresUrl('mysql://db/x'), /postgres:\/\//);
    assert.throws(() => parsePostgresUrl('not a url'), /not a URL/);
  });

  test('the CLI\'s durable flags are checked where they enter', () => {
    assert.deepEqual(parseDurable({}, {}), { kind: 'none' });
    assert.deepEqual(parseDurable({ durable: 'postgres' }, {}), { kind: 'local', mode: 'write-through', writeDelaySeconds: 1 });
    assert.deepEqual(parseDurable({ 'durable-url': 'postgres://u@h/d', 'durable-mode': 'write-behind', 'write-delay': '3' }, {}), { kind: 'url', url: 'postgres://u@h/d', mode: 'write-behind', writeDelaySeconds: 3 });
    assert.equal(parseDurable({}, { TROUPE_DURABLE_URL: 'postgres://u@h/d' }).kind, 'url');
    assert.throws(() => parseDurable({ durable: 'mysql' }, {}), /--durable must be 'postgres'/);
    assert.throws(() => parseDurable({ durable: 'postgres', 'durable-url': 'postgres://h/d' }, {}), /give one of them/);
    assert.throws(() => parseDurable({ durable: 'postgres', 'durable-mode': 'sometimes' }, {}), /--durable-mode/);
    assert.throws(() => parseDurable({ durable: 'postgres', 'write-delay': '2' }, {}), /write-behind only/);
    assert.throws(() => parseDurable({ 'durable-mode': 'write-behind' }, {}), /need --durable/);
    assert.throws(() => parseDurable({ 'durable-url': 'http://x' }, {}), /--durable-url/);
  });

  test('the members\' reports sum up to one mode, or mixed, with failing stores named', () => {
    const now = 1_000_000;
    const wt = { member: 'm1', mode: 'write-through', store: 'postgresql', database: 'db:5432/troupe', quorum: 2, writeDelaySeconds: 0, lastStoreSuccessAt: now - 1000 };
    assert.deepEqual(summarize([], now).mode, 'unknown');
    assert.deepEqual(summarize([wt, { ...wt, member: 'm2' }], now), { mode: 'write-through', store: 'postgresql', writeDelaySeconds: 0, members: 2, quorum: 2, detail: 'database db:5432/troupe' });
    const mixed = summarize([wt, { ...wt, member: 'm2', mode: 'write-behind', writeDelaySeconds: 1 }], now);
    assert.equal(mixed.mode, 'mixed');
    assert.match(mixed.detail!, /members disagree/);
    const failing = summarize([{ ...wt, lastStoreFailureAt: now - 500, lastStoreFailure: 'store troupe.actor.A: connection refused' }], now);
    assert.match(failing.detail!, /store failing on m1: store troupe.actor.A: connection refused/);
    assert.equal(summarize([{ member: 'm1', mode: 'none', store: 'none' }], now).mode, 'none');
  });
});
