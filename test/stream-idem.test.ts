/**
 * Stream records' idempotency keys in the worker, through a real TurnPool:
 * a record applied under the key records had before (`kafka:<topic>:<partition>:<offset>`)
 * and read again under the sequenced one (`~s:kafka:<topic>:<partition>/<offset>`,
 * an upgrade between the two reads) is answered from its stored result, not
 * applied twice; a record below its partition's mark is a duplicate; the
 * entries below the committed offset leave the record.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeRecord, encodeRecord, type IdemEntry } from '../runtime/record.js';
import type { TaskGroup, TurnMessage } from '../runtime/pool/protocol.js';
import { TurnPool } from '../runtime/pool/turn-pool.js';
import { MODULES } from './fixtures/node.js';

describe('stream records in the worker', () => {
  let pool: TurnPool;
  before(() => {
    pool = new TurnPool(
      { name: 'stream-idem', modules: [MODULES.testActors], minThreads: 1, maxThreads: 1, callTimeoutMs: 5000, idem: { max: 64, ttlMs: 3_600_000, minAgeMs: 60_000, hardMax: 1024 }, incarnation: 'test' },
      { call: async () => null, grid: async () => null, deferredResult: () => {}, deferredFailed: () => {}, threadGone: () => {} },
    );
  });
  after(async () => {
    await pool.close();
  });

  const append = (x: unknown, idem: string, turn: number, ack = -1): TurnMessage => (ack < 0 ? ['append', [x], idem, 'stream:pay', turn] : ['append', [x], idem, 'stream:pay', turn, ack]);
  const run = async (data: Uint8Array | null, messages: TurnMessage[]) => {
    const group: TaskGroup = [1, 'Log', 'acct', data, messages];
    const [done] = await pool.run([group], 10_000);
    return done[0]!;
  };

  test('a record applied under the old key is answered from it when read again under the new one', async () => {
    const idem: IdemEntry[] = [['kafka:pay:3:1234', Date.now(), [1, 1]]];
    const data = encodeRecord({ state: { items: ['first'] }, idem });
    const [, written, results] = await run(data, [append('first', '~s:kafka:pay:3/1234', 1)]);
    assert.deepEqual(results, [[1, 1]], 'the stored answer');
    const state = written === null ? { items: ['first'] } : decodeRecord(written).state;
    assert.deepEqual(state, { items: ['first'] }, 'not applied a second time');
  });

  test('with the committed offset as ack, entries below it go and a record below the mark is a duplicate', async () => {
    const [, afterTwo] = await run(null, [append('a', '~s:kafka:pay:3/10', 1), append('b', '~s:kafka:pay:3/11', 2)]);
    const [, afterAck, results] = await run(afterTwo, [append('c', '~s:kafka:pay:3/12', 3, 12)]);
    assert.deepEqual(results, [[1, 3]]);
    const rec = decodeRecord(afterAck!);
    assert.deepEqual(rec.state, { items: ['a', 'b', 'c'] });
    // The partition's mark, then the record's own entry: offsets 10 and 11 are below the committed 12.
    assert.deepEqual(rec.idem.map((e) => e[0]), ['~s:kafka:pay:3/', '~s:kafka:pay:3/12']);
    // Offset 10 again (a re-read from an older commit): below the mark, not applied.
    const [, again, dup] = await run(afterAck, [append('a', '~s:kafka:pay:3/10', 4)]);
    assert.deepEqual(dup, [[1, null]]);
    assert.deepEqual(decodeRecord(again ?? afterAck!).state, { items: ['a', 'b', 'c'] });
  });
});
