/**
 * The Grid contract, written once and run against every engine
 * (grid-embedded.test.ts, grid-hazelcast.test.ts). A behaviour belongs here
 * when the runtime relies on it whatever the engine.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isLost, type Grid, type RecordKey, type RecordRead, type RecordWrite, type VersionedRecord } from '../grid/index.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/** Rejects with an error carrying `code` (matched by code, never by class). */
async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { code?: unknown }).code, code, `expected ${code}, got ${String(err)}`);
    return true;
  });
}

/** A read that must not report loss: the record or undefined. */
function found(r: RecordRead): VersionedRecord | undefined {
  assert.ok(!isLost(r), `unexpected loss: ${JSON.stringify(r)}`);
  return r;
}

/**
 * @param makeGrid builds a fresh, not yet started grid; the suite starts and closes it.
 * @param cleanup runs after the grid is closed (stop the engine's servers).
 * @param loseRecord removes a record behind the grid's back, as a crash that
 *   took every copy would (or an operator deleting it by hand), leaving
 *   whatever evidence of it the engine keeps elsewhere.
 */
export function gridContract(
  name: string,
  makeGrid: () => Promise<Grid>,
  cleanup: () => Promise<void>,
  loseRecord: (grid: Grid, key: RecordKey) => Promise<void>,
): void {
  describe(`Grid contract: ${name}`, () => {
    let grid: Grid;
    let seq = 0;
    const read = async (keys: readonly RecordKey[]): Promise<(VersionedRecord | undefined)[]> => (await grid.readRecords(keys)).map(found);
    // A fresh actor type per test, so tests never see each other's records.
    const freshType = (): string => `Contract${++seq}x${Date.now().toString(36)}`;

    before(async () => {
      grid = await makeGrid();
      await grid.start();
    });

    after(async () => {
      await grid?.close();
      await cleanup();
    });

    test('a started grid reports ready', () => {
      assert.equal(grid.health().ready, true);
    });

    test('a created record reads back with version 1 and its data', async () => {
      const type = freshType();
      const [outcome] = await grid.commit([{ type, key: 'a', expectedVersion: 0, data: bytes('hello') }]);
      assert.deepEqual(outcome, { ok: true, version: 1 });
      const [rec] = await read([{ type, key: 'a' }]);
      assert.equal(rec?.version, 1);
      assert.equal(text(rec!.data), 'hello');
    });

    test('an absent record reads as undefined', async () => {
      assert.deepEqual(await read([{ type: freshType(), key: 'nobody' }]), [undefined]);
    });

    test('creating a record that exists is a conflict that returns the current record', async () => {
      const type = freshType();
      await grid.commit([{ type, key: 'a', expectedVersion: 0, data: bytes('first') }]);
      const [outcome] = await grid.commit([{ type, key: 'a', expectedVersion: 0, data: bytes('second') }]);
      assert.equal(outcome?.ok, false);
      assert.ok(!outcome!.ok && outcome.conflict);
      assert.equal(outcome.current?.version, 1);
      assert.equal(text(outcome.current!.data), 'first');
    });

    test('a write with the version it read lands and bumps the version', async () => {
      const type = freshType();
      await grid.commit([{ type, key: 'a', expectedVersion: 0, data: bytes('v1') }]);
      const [current] = await read([{ type, key: 'a' }]);
      const [outcome] = await grid.commit([{ type, key: 'a', expectedVersion: current!.version, data: bytes('v2') }]);
      assert.deepEqual(outcome, { ok: true, version: 2 });
      const [rec] = await read([{ type, key: 'a' }]);
      assert.equal(rec?.version, 2);
      assert.equal(text(rec!.data), 'v2');
    });

    test('a stale writer cannot overwrite a newer record and is told what is current', async () => {
      const type = freshType();
      await grid.commit([{ type, key: 'a', expectedVersion: 0, data: bytes('v1') }]);
      await grid.commit([{ type, key: 'a', expectedVersion: 1, data: bytes('v2 by the owner') }]);
      const [stale] = await grid.commit([{ type, key: 'a', expectedVersion: 1, data: bytes('v2 by a stale node') }]);
      assert.equal(stale?.ok, false);
      assert.ok(!stale!.ok && stale.conflict);
      assert.equal(stale.current?.version, 2);
      assert.equal(text(stale.current!.data), 'v2 by the owner');
      const [rec] = await read([{ type, key: 'a' }]);
      assert.equal(text(rec!.data), 'v2 by the owner');
    });

    test('two writers with identical data at the same version: exactly one lands', async () => {
      // Two nodes applying different calls can produce the same state (two add(1) on 5);
      // if both writes "landed", one update would be lost.
      const type = freshType();
      await grid.commit([{ type, key: 'twin', expectedVersion: 0, data: bytes('5') }]);
      const [a, b] = await Promise.all([
        grid.commit([{ type, key: 'twin', expectedVersion: 1, data: bytes('6') }]),
        grid.commit([{ type, key: 'twin', expectedVersion: 1, data: bytes('6') }]),
      ]);
      assert.deepEqual([a[0]!.ok, b[0]!.ok].sort(), [false, true]);
      const [rec] = await read([{ type, key: 'twin' }]);
      assert.equal(rec!.version, 2);
    });

    test('a write expecting a version ahead of the stored one is a conflict', async () => {
      const type = freshType();
      await grid.commit([{ type, key: 'a', expectedVersion: 0, data: bytes('v1') }]);
      const [outcome] = await grid.commit([{ type, key: 'a', expectedVersion: 5, data: bytes('from the future') }]);
      assert.equal(outcome?.ok, false);
      const [rec] = await read([{ type, key: 'a' }]);
      assert.equal(rec?.version, 1);
    });

    test('updating an absent record is a conflict without a current record', async () => {
      const [outcome] = await grid.commit([{ type: freshType(), key: 'ghost', expectedVersion: 3, data: bytes('x') }]);
      assert.equal(outcome?.ok, false);
      assert.ok(!outcome!.ok && outcome.conflict && outcome.current === undefined);
    });

    test('a batch commit returns one outcome per write, in order, each checked on its own', async () => {
      const type = freshType();
      await grid.commit([
        { type, key: 'k1', expectedVersion: 0, data: bytes('k1v1') },
        { type, key: 'k3', expectedVersion: 0, data: bytes('k3v1') },
      ]);
      const writes: RecordWrite[] = [];
      for (let i = 0; i < 40; i++) writes.push({ type, key: `n${i}`, expectedVersion: 0, data: bytes(`n${i}`) });
      writes.splice(5, 0, { type, key: 'k1', expectedVersion: 1, data: bytes('k1v2') }); // lands
      writes.splice(17, 0, { type, key: 'k3', expectedVersion: 0, data: bytes('k3 again') }); // conflict
      writes.splice(30, 0, { type, key: 'k9', expectedVersion: 2, data: bytes('k9?') }); // conflict, absent
      const outcomes = await grid.commit(writes);
      assert.equal(outcomes.length, writes.length);
      outcomes.forEach((o, i) => {
        const w = writes[i]!;
        if (w.key === 'k3' || w.key === 'k9') assert.equal(o.ok, false, `write ${i} (${w.key})`);
        else assert.deepEqual(o, { ok: true, version: w.expectedVersion + 1 }, `write ${i} (${w.key})`);
      });
      const recs = await read(writes.map((w) => ({ type, key: w.key })));
      assert.equal(text(recs[5]!.data), 'k1v2');
      assert.equal(text(recs[17]!.data), 'k3v1');
      assert.equal(recs[30], undefined);
      assert.equal(text(recs[40]!.data), 'n37');
    });

    test('two writes to one record in a batch apply in batch order', async () => {
      const type = freshType();
      const outcomes = await grid.commit([
        { type, key: 'a', expectedVersion: 0, data: bytes('one') },
        { type, key: 'b', expectedVersion: 0, data: bytes('b') },
        { type, key: 'a', expectedVersion: 1, data: bytes('two') },
      ]);
      assert.deepEqual(outcomes, [
        { ok: true, version: 1 },
        { ok: true, version: 1 },
        { ok: true, version: 2 },
      ]);
      const [rec] = await read([{ type, key: 'a' }]);
      assert.equal(text(rec!.data), 'two');
    });

    test('readRecords answers in the order asked, across actor types, repeats included', async () => {
      const t1 = freshType();
      const t2 = freshType();
      await grid.commit([
        { type: t1, key: 'x', expectedVersion: 0, data: bytes('t1x') },
        { type: t2, key: 'x', expectedVersion: 0, data: bytes('t2x') },
        { type: t2, key: 'y', expectedVersion: 0, data: bytes('t2y') },
      ]);
      const recs = await read([
        { type: t2, key: 'y' },
        { type: t1, key: 'missing' },
        { type: t1, key: 'x' },
        { type: t2, key: 'x' },
        { type: t2, key: 'y' },
      ]);
      assert.deepEqual(
        recs.map((r) => (r === undefined ? undefined : text(r.data))),
        ['t2y', undefined, 't1x', 't2x', 't2y'],
      );
    });

    test('the same key under two actor types is two records', async () => {
      const t1 = freshType();
      const t2 = freshType();
      await grid.commit([{ type: t1, key: 'k', expectedVersion: 0, data: bytes('one') }]);
      const [o] = await grid.commit([{ type: t2, key: 'k', expectedVersion: 0, data: bytes('two') }]);
      assert.deepEqual(o, { ok: true, version: 1 });
    });

    test('an empty commit and an empty read resolve to empty lists', async () => {
      assert.deepEqual(await grid.commit([]), []);
      assert.deepEqual(await read([]), []);
    });

    test('changing a buffer after commit, or a record after reading it, does not change the stored record', async () => {
      const type = freshType();
      const data = bytes('original');
      await grid.commit([{ type, key: 'a', expectedVersion: 0, data }]);
      data.fill(0);
      const [first] = await read([{ type, key: 'a' }]);
      assert.equal(text(first!.data), 'original');
      first!.data.fill(0);
      const [second] = await read([{ type, key: 'a' }]);
      assert.equal(text(second!.data), 'original');
      // And the version check still works after a reader scribbled on its copy.
      const [o] = await grid.commit([{ type, key: 'a', expectedVersion: 1, data: bytes('next') }]);
      assert.deepEqual(o, { ok: true, version: 2 });
    });

    test('a record lost behind the grid\'s back reads as lost, never as absent; the rest of the batch reads normally', async () => {
      const type = freshType();
      await grid.commit([
        { type, key: 'kept', expectedVersion: 0, data: bytes('kept') },
        { type, key: 'gone', expectedVersion: 0, data: bytes('v1') },
      ]);
      await grid.commit([{ type, key: 'gone', expectedVersion: 1, data: bytes('v2') }]);
      await loseRecord(grid, { type, key: 'gone' });
      const [kept, gone, never] = await grid.readRecords([
        { type, key: 'kept' },
        { type, key: 'gone' },
        { type, key: 'never' },
      ]);
      assert.ok(!isLost(kept) && kept !== undefined && text(kept.data) === 'kept', 'the neighbour reads normally');
      assert.ok(isLost(gone), `the lost record reads as lost, got ${JSON.stringify(gone)}`);
      assert.equal(typeof gone.detail, 'string');
      assert.equal(never, undefined, 'a record that never existed is still just absent');
      // And it stays lost: nothing starts it afresh behind the caller's back.
      const [again] = await grid.readRecords([{ type, key: 'gone' }]);
      assert.ok(isLost(again));
    });

    test('a record created by a batch is protected from its first version on', async () => {
      const type = freshType();
      await grid.commit(Array.from({ length: 20 }, (_, i) => ({ type, key: `b${i}`, expectedVersion: 0, data: bytes(`b${i}`) })));
      await loseRecord(grid, { type, key: 'b7' });
      const reads = await grid.readRecords(Array.from({ length: 20 }, (_, i) => ({ type, key: `b${i}` })));
      reads.forEach((r, i) => assert.equal(isLost(r), i === 7, `b${i}`));
    });

    test('a hot map stores structured values, reads absent keys as undefined and deletes', async () => {
      const m = grid.map(`contract-${Date.now().toString(36)}`);
      assert.equal(await m.get('nope'), undefined);
      const value = { name: 'ada', tags: ['a', 'b'], n: 42, nested: { ok: true } };
      await m.set('u1', value);
      value.tags.push('mutated after set');
      assert.deepEqual(await m.get('u1'), { name: 'ada', tags: ['a', 'b'], n: 42, nested: { ok: true } });
      await m.set('u1', 'replaced');
      assert.equal(await m.get('u1'), 'replaced');
      assert.equal(await m.delete('u1'), true);
      assert.equal(await m.delete('u1'), false);
      assert.equal(await m.get('u1'), undefined);
    });

    test('hot-map values of the same shape read back in any order', async () => {
      const m = grid.map(`shape-${freshType()}`);
      await m.set('first', { kind: 'x', n: 1, tags: ['a'] });
      await m.set('second', { kind: 'y', n: 2, tags: ['b'] });
      assert.deepEqual(await m.get('second'), { kind: 'y', n: 2, tags: ['b'] });
      assert.deepEqual(await m.get('first'), { kind: 'x', n: 1, tags: ['a'] });
    });

    test('a hot map lists its keys', async () => {
      const m = grid.map(`keys-${freshType()}`);
      await m.set('a', 1);
      await m.set('b', { x: 2 });
      await m.delete('a');
      assert.deepEqual((await m.keys()).sort(), ['b']);
    });

    test('hot maps with different names are separate', async () => {
      const suffix = Date.now().toString(36);
      await grid.map(`a-${suffix}`).set('k', 1);
      assert.equal(await grid.map(`b-${suffix}`).get('k'), undefined);
      assert.equal(await grid.map(`a-${suffix}`).get('k'), 1);
    });

    test('a counter starts at 0 and addAndGet returns the running total', async () => {
      const c = grid.counter(`contract-${Date.now().toString(36)}`);
      assert.equal(await c.get(), 0);
      assert.equal(await c.addAndGet(5), 5);
      assert.equal(await c.addAndGet(-2), 3);
      assert.equal(await c.get(), 3);
    });

    test('concurrent increments each see a distinct total and none is lost', async () => {
      const c = grid.counter(`contract-conc-${Date.now().toString(36)}`);
      const results = await Promise.all(Array.from({ length: 100 }, () => c.addAndGet(1)));
      assert.deepEqual(
        [...results].sort((a, b) => a - b),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      assert.equal(await c.get(), 100);
    });

    test('a held lock makes the next taker wait until it is released', async () => {
      const name = `contract-lock-${Date.now().toString(36)}`;
      const first = await grid.lock(name, 1_000);
      let secondGot = false;
      const second = grid.lock(name, 5_000).then((h) => {
        secondGot = true;
        return h;
      });
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(secondGot, false, 'second taker must wait');
      await first.release();
      const handle = await second;
      assert.equal(secondGot, true);
      await handle.release();
    });

    test('taking a held lock fails with E_TIMEOUT after its timeout', async () => {
      const name = `contract-lock-to-${Date.now().toString(36)}`;
      const held = await grid.lock(name, 1_000);
      const started = Date.now();
      await rejectsWithCode(grid.lock(name, 200), 'E_TIMEOUT');
      const waited = Date.now() - started;
      assert.ok(waited >= 150 && waited < 3_000, `waited ${waited} ms for a 200 ms timeout`);
      await held.release();
      // Released: the lock can be taken again at once, and release twice is harmless.
      const again = await grid.lock(name, 1_000);
      await again.release();
      await again.release();
    });

    test('a lock held past its lease is free for the next taker; the late release does nothing to the new holder', async () => {
      const name = `contract-lease-${Date.now().toString(36)}`;
      const stale = await grid.lock(name, 300, 1000);
      const started = Date.now();
      const next = await grid.lock(name, 5000, 3000);
      const waited = Date.now() - started;
      assert.ok(waited >= 200 && waited < 2500, `the next taker waited ${waited} ms for a 300 ms lease`);
      assert.ok(next.token > stale.token, 'tokens grow from holder to holder');
      await stale.release();
      // Still held by `next`: a third taker times out.
      await rejectsWithCode(grid.lock(name, 1000, 200), 'E_TIMEOUT');
      await next.release();
      const third = await grid.lock(name, 1000, 1000);
      assert.ok(third.token > next.token);
      await third.release();
    });

    test('a fenced write under an older token is refused with E_FENCED; newer tokens and reads pass', async () => {
      const m = grid.map(`contract-fence-${Date.now().toString(36)}`);
      await m.set('k', { by: 5 }, 5);
      await rejectsWithCode(m.set('k', { by: 4 }, 4), 'E_FENCED');
      assert.deepEqual(await m.get('k'), { by: 5 });
      await m.set('k', { by: 7 }, 7);
      assert.deepEqual(await m.get('k'), { by: 7 });
      await rejectsWithCode(m.set('k', { by: 6 }, 6), 'E_FENCED');
      // An unfenced write is not checked (and clears the fence).
      await m.set('k', 'plain');
      assert.equal(await m.get('k'), 'plain');
      await m.set('k', { by: 1 }, 1);
      assert.deepEqual(await m.get('k'), { by: 1 });
    });

    test('locks with different names do not block each other', async () => {
      const suffix = Date.now().toString(36);
      const a = await grid.lock(`a-${suffix}`, 1_000);
      const b = await grid.lock(`b-${suffix}`, 1_000);
      await a.release();
      await b.release();
    });

    test('the wake index: lower creates or lowers an entry (never raises it), with a fresh tag each time', async () => {
      const index = grid.wakeIndex();
      const actor = { type: freshType(), key: 'w' };
      const first = await index.lower(7, actor, 5000);
      assert.equal(first.due, 5000);
      const later = await index.lower(7, actor, 9000);
      assert.equal(later.due, 5000, 'a later due time does not raise the entry');
      assert.notEqual(later.tag, first.tag, 'every write stores a new tag');
      const earlier = await index.lower(7, actor, 1000);
      assert.equal(earlier.due, 1000);
      const found = (await index.scan(new Set([7]))).filter((e) => e.type === actor.type);
      assert.deepEqual(found, [{ shard: 7, type: actor.type, key: 'w', mark: earlier }]);
    });

    test('the wake index: removeIf removes only the entry it last saw, and scan reads only the shards asked for', async () => {
      const index = grid.wakeIndex();
      const type = freshType();
      const seen = await index.lower(3, { type, key: 'a' }, 0);
      await index.lower(4, { type, key: 'b' }, 0);
      // Another node touched the entry after this one saw it: the removal decided on the old view fails.
      const touched = await index.lower(3, { type, key: 'a' }, 0);
      assert.equal(await index.removeIf(3, { type, key: 'a' }, seen), false);
      assert.deepEqual((await index.scan(new Set([3]))).filter((e) => e.type === type).map((e) => e.key), ['a']);
      assert.equal(await index.removeIf(3, { type, key: 'a' }, touched), true);
      assert.deepEqual((await index.scan(new Set([3]))).filter((e) => e.type === type), []);
      assert.deepEqual((await index.scan(new Set([4, 5]))).filter((e) => e.type === type).map((e) => `${e.shard}/${e.key}`), ['4/b']);
    });

    test('the wake index keeps keys with any characters apart', async () => {
      const index = grid.wakeIndex();
      const type = freshType();
      await index.lower(9, { type, key: 'x\u0000y' }, 10);
      await index.lower(9, { type, key: 'x' }, 20);
      const keys = (await index.scan(new Set([9]))).filter((e) => e.type === type).map((e) => e.key).sort();
      assert.deepEqual(keys, ['x', 'x\u0000y']);
    });

    // Keep last: it closes the grid the other tests use.
    test('after close, health is not ready and operations fail with E_UNAVAILABLE; close is idempotent', async () => {
      await grid.close();
      assert.equal(grid.health().ready, false);
      await rejectsWithCode(read([{ type: 'X', key: 'a' }]), 'E_UNAVAILABLE');
      await rejectsWithCode(grid.commit([{ type: 'X', key: 'a', expectedVersion: 0, data: bytes('x') }]), 'E_UNAVAILABLE');
      await rejectsWithCode(grid.map('m').get('k'), 'E_UNAVAILABLE');
      await rejectsWithCode(grid.counter('c').addAndGet(1), 'E_UNAVAILABLE');
      await rejectsWithCode(grid.lock('l', 100), 'E_UNAVAILABLE');
      await rejectsWithCode(grid.wakeIndex().scan(new Set([0])), 'E_UNAVAILABLE');
      await grid.close();
    });
  });
}
