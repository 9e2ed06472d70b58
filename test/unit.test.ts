/** Small pieces with sharp edges: configuration, shard hashing, the expose rules, deadlines, records. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Actor, exposedMethods } from '../actors/index.js';
import { ConfigError, loadConfig } from '../runtime/config.js';
import { DeadlineWheel } from '../runtime/deadline-wheel.js';
import { shardOf, SHARD_COUNT } from '../runtime/placement/shards.js';
import { decodeRecord, encodeRecord, type IdemEntry } from '../runtime/record.js';
import { applySenderAck, autoIdemKey, legacyStreamKey, pruneIdem, streamIdemKey, tellKey } from '../runtime/idem-keys.js';
import { isNativeUws } from '../runtime/gateway/native-uws.js';

describe('configuration', () => {
  test('defaults are complete and frozen', () => {
    const c = loadConfig([], {});
    assert.equal(c.port, 7070);
    assert.equal(c.grid.engine, 'embedded');
    assert.equal(c.maxFrame, 16 * 1024 * 1024);
    assert.ok(Object.isFrozen(c));
  });

  test('flags win over environment variables', () => {
    const c = loadConfig(['--port', '8001', '--max-frame=2048'], { TROUPE_PORT: '8002', TROUPE_MAX_FRAME: '4096', TROUPE_GRID: 'hazelcast' });
    assert.equal(c.port, 8001);
    assert.equal(c.maxFrame, 2048);
    assert.equal(c.grid.engine, 'hazelcast');
  });

  for (const [argv, env, pattern] of [
    [['--port', 'abc'], {}, /--port must be an integer/],
    [['--threads', '0'], {}, /--threads must be an integer between 1/],
    [[], { TROUPE_GRID: 'redis' }, /TROUPE_GRID must be one of embedded, hazelcast/],
    [['--bogus', '1'], {}, /unknown option --bogus/],
    [['--port'], {}, /--port needs a value/],
    [['start'], {}, /unexpected argument 'start'/],
  ] as const) {
    test(`a bad value stops with one clear line: ${[...argv, ...Object.entries(env).flat()].join(' ')}`, () => {
      assert.throws(() => loadConfig([...argv], { ...env }), (e: Error) => e instanceof ConfigError && pattern.test(e.message));
    });
  }
});

describe('shards', () => {
  test('an identity always hashes to the same shard, within range', () => {
    assert.equal(shardOf('Counter', 'c1'), shardOf('Counter', 'c1'));
    for (let i = 0; i < 1000; i++) {
      const s = shardOf('T', `k${i}`);
      assert.ok(Number.isInteger(s) && s >= 0 && s < SHARD_COUNT);
    }
  });

  test('type and key are separated: ("ab","c") and ("a","bc") differ', () => {
    assert.notEqual(shardOf('ab', 'c'), shardOf('a', 'bc'));
  });

  test('keys spread over the shards', () => {
    const counts = new Array(SHARD_COUNT).fill(0);
    for (let i = 0; i < 27_100; i++) counts[shardOf('Account', `acct-${i}`)]++;
    assert.ok(Math.max(...counts) < 200 && Math.min(...counts) > 40, `uneven: ${Math.min(...counts)}..${Math.max(...counts)}`);
  });
});

describe('expose rules', () => {
  test('exposed methods are found, inherited ones too', () => {
    class Base extends Actor<{ n: number }> {
      static override expose: readonly string[] = ['a'];
      state = { n: 0 };
      a() { return 1; }
    }
    class Derived extends Base {
      static override expose = ['a', 'b'] as const;
      b() { return 2; }
    }
    assert.deepEqual([...exposedMethods(Derived)], ['a', 'b']);
  });

  for (const name of ['constructor', '__proto__', 'toString', '_private', 'publish', 'ref', 'state', 'missing']) {
    test(`'${name}' cannot be exposed`, () => {
      class Bad extends Actor<unknown> {
        static override expose = [name];
        _private() { return 1; }
      }
      assert.throws(() => exposedMethods(Bad), TypeError);
    });
  }
});

describe('stream records: one mark per partition, not an entry per record', () => {
  const rec = (partition: number, offset: number): string => streamIdemKey('kafka', 'pay', partition, String(offset));

  test('a partition\'s entries below its committed offset are dropped; other partitions\' and callers\' stay', () => {
    const idem: IdemEntry[] = [[rec(3, 10), 1, [1, 1]], [rec(3, 11), 1, [1, 2]], [rec(3, 15), 1, [1, 3]], [rec(4, 2), 1, [1, 4]], ['client-key', 1, [1, 0]]];
    const out = applySenderAck(idem, rec(3, 16), 12, 7);
    assert.equal(out.duplicate, false);
    assert.deepEqual(out.idem.map((e) => e[0]), [rec(3, 15), rec(4, 2), 'client-key', '~s:kafka:pay:3/']);
  });

  test('a record below the mark, read again after its entry is gone, is a duplicate: not applied twice', () => {
    let idem: IdemEntry[] = [[rec(3, 10), 1, [1, 1]]];
    idem = applySenderAck(idem, rec(3, 20), 15, 2).idem;
    assert.deepEqual(idem.map((e) => e[0]), ['~s:kafka:pay:3/']);
    assert.equal(applySenderAck(idem, rec(3, 10), -1, 3).duplicate, true, 'offset 10 < mark 15');
    assert.equal(applySenderAck(idem, rec(3, 15), -1, 3).duplicate, false, 'offset 15 is not below the committed offset');
    assert.equal(applySenderAck(idem, rec(4, 10), -1, 3).duplicate, false, 'another partition');
  });

  test('the key records had before the change is derived, so a record read again across an upgrade is found', () => {
    assert.equal(legacyStreamKey(rec(3, 1234)), 'kafka:pay:3:1234');
    assert.equal(legacyStreamKey('client-key'), undefined);
    assert.equal(legacyStreamKey(tellKey('s1', 3)), undefined);
  });
});

describe('acknowledged forwarded calls and tells', () => {
  test('a sender\'s entries below its ack are dropped; other senders\' and callers\' keys stay', () => {
    const idem: IdemEntry[] = [
      [autoIdemKey('n1', 'aa', 5), 1, [1, 5]],
      [autoIdemKey('n1', 'aa', 9), 1, [1, 9]],
      [autoIdemKey('n1', 'bb', 2), 1, [1, 2]],
      [autoIdemKey('n2', 'aa', 1), 1, [1, 1]],
      ['client-key', 1, [1, 0]],
    ];
    const out = applySenderAck(idem, autoIdemKey('n1', 'aa', 12), 9, 7);
    assert.equal(out.duplicate, false);
    assert.deepEqual(out.idem.map((e) => e[0]), [autoIdemKey('n1', 'aa', 9), autoIdemKey('n1', 'bb', 2), autoIdemKey('n2', 'aa', 1), 'client-key', '~fwd:n1.aa/']);
    assert.equal(applySenderAck(idem, 'client-key', 100, 7).idem, idem);
  });

  test('a tell numbered below its sender\'s mark is a duplicate even once its own entry is gone', () => {
    let idem: IdemEntry[] = [[tellKey('s1', 3), 1, [1, 3]], [tellKey('s1', 4), 1, [1, 4]]];
    idem = applySenderAck(idem, tellKey('s1', 6), 5, 2).idem;
    assert.deepEqual(idem.map((e) => e[0]), ['~o:s1/', ]);
    // A node with an older view of the sender delivers tell 4 again: recognised, not applied.
    assert.equal(applySenderAck(idem, tellKey('s1', 4), 3, 3).duplicate, true);
    assert.equal(applySenderAck(idem, tellKey('s1', 5), 3, 3).duplicate, false);
    assert.equal(applySenderAck(idem, tellKey('s2', 1), 0, 3).duplicate, false);
    // Marks only move up.
    assert.equal(applySenderAck(idem, tellKey('s1', 7), 2, 3).idem, idem);
  });

  test('a tell sent again with an ack above its own number is a duplicate: its sender has it acknowledged', () => {
    // Tell 4 applied once; then a retry of it that outlived its sender's old record comes with the newer record's ack (5).
    const idem: IdemEntry[] = [['~o:s1/', 1, [1, 3]], [tellKey('s1', 4), 1, [1, 4]]];
    const out = applySenderAck(idem, tellKey('s1', 4), 5, 2);
    assert.equal(out.duplicate, true, 'applied again, it would count twice: the new mark just dropped its entry');
    assert.deepEqual(out.idem.map((e) => e[0]), ['~o:s1/']);
    assert.equal(applySenderAck(idem, tellKey('s1', 5), 5, 2).duplicate, false);
  });
});

describe('deadline wheel', () => {
  test('expires entries once, never before their deadline, and never removed ones', async () => {
    const wheel = new DeadlineWheel<{ wheelSlot: number; expire(): void; firedAt: number[] }>(10);
    const mk = () => ({ wheelSlot: 0, firedAt: [] as number[], expire() { this.firedAt.push(Date.now()); } });
    const a = mk();
    const b = mk();
    const deadline = Date.now() + 30;
    wheel.add(a, deadline);
    wheel.add(b, deadline);
    wheel.remove(b);
    for (let i = 0; i < 200 && a.firedAt.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(a.firedAt.length, 1);
    assert.ok(a.firedAt[0]! >= deadline, `fired ${deadline - a.firedAt[0]!} ms early`);
    assert.equal(b.firedAt.length, 0);
    assert.equal(wheel.size, 0);
    wheel.close();
  });
});

describe('actor records', () => {
  test('state and idempotency entries round-trip together', () => {
    const idem: IdemEntry[] = [['k1', 1000, [1, 5]]];
    const data = encodeRecord({ state: { total: 5, tags: new Set(['a']) }, idem });
    const back = decodeRecord(data);
    assert.deepEqual(back.state, { total: 5, tags: new Set(['a']) });
    assert.deepEqual(back.idem, idem);
  });

  test('idempotency entries are bounded by age, then by count, sparing young ones up to a hard cap', () => {
    const entries: IdemEntry[] = Array.from({ length: 10 }, (_, i) => [`k${i}`, i * 100, [1, i]]);
    const r = { max: 3, ttlMs: 10_000, minAgeMs: 0, hardMax: 100 };
    assert.deepEqual(pruneIdem(entries, { ...r, max: 100, ttlMs: 450 }, 1000).map((e) => e[0]), ['k6', 'k7', 'k8', 'k9']);
    assert.deepEqual(pruneIdem(entries, r, 1000).map((e) => e[0]), ['k7', 'k8', 'k9']);
    // Entries younger than minAge (here: at 500 and later) survive the count limit...
    assert.deepEqual(pruneIdem(entries, { ...r, minAgeMs: 550 }, 1000).map((e) => e[0]), ['k5', 'k6', 'k7', 'k8', 'k9']);
    // ...but never past the hard cap.
    assert.deepEqual(pruneIdem(entries, { ...r, minAgeMs: 10_000, hardMax: 4 }, 1000).map((e) => e[0]), ['k6', 'k7', 'k8', 'k9']);
    // Keys the node made up for forwarded calls have their own, short minimum age (3 s).
    const auto: IdemEntry[] = Array.from({ length: 10 }, (_, i) => [`~fwd:n1/${i}`, 1000 + i, [1, i]]);
    assert.equal(pruneIdem(auto, { ...r, ttlMs: 1_000_000, minAgeMs: 3_600_000 }, 20_000).length, 3);
    assert.equal(pruneIdem(auto, { ...r, minAgeMs: 0 }, 3_500).length, 10);
  });
});

test('the native uWebSockets.js binary loads on this Node', () => {
  assert.equal(isNativeUws(), true, `no native uWebSockets.js on Node ${process.versions.node}`);
});
