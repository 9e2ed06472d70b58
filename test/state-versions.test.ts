/**
 * State versions: records carry the version of the code that wrote them,
 * older ones are migrated when loaded, newer ones are refused (E_VERSION)
 * and left untouched. A rolling update on one grid: old and new code side
 * by side, then only the new, with no call lost and no record damaged.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { connect, type TroupeClient } from '../client/index.js';
import { EmbeddedGrid } from '../grid/embedded/embedded-grid.js';
import type { VersionedRecord } from '../grid/index.js';
import { decodeRecord, encodeRecord } from '../runtime/record.js';
import { startNode, type NodeHandle } from '../runtime/index.js';
import { Packr } from 'msgpackr';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const V1 = here('./fixtures/versioned-v1.js');
const V2 = here('./fixtures/versioned-v2.js');
const BAD = here('./fixtures/versioned-bad.js');
const KEYS = Array.from({ length: 12 }, (_, i) => `t${i}`);

const start = (actors: string, grid: EmbeddedGrid): Promise<NodeHandle> =>
  startNode({ port: 0, actors: [actors], threads: 1, logLevel: 'silent', readLease: 1000 }, { grid });

function record(grid: EmbeddedGrid, key: string): VersionedRecord {
  const [rec] = grid.readRecordsNow([{ type: 'Tally', key }]) as (VersionedRecord | undefined)[];
  assert.ok(rec !== undefined, `Tally/${key} has a record`);
  return rec;
}

describe('record versions', () => {
  test('a record without a version (written before versions existed) reads as version 1; others carry theirs', () => {
    const old = new Packr({ useRecords: false, moreTypes: true }).pack([{ total: 3 }, []]);
    assert.equal(decodeRecord(old).version, 1);
    assert.ok(Buffer.from(encodeRecord({ state: { total: 3 }, idem: [] })).equals(old), 'version 1 records keep their old bytes');
    const v3 = decodeRecord(encodeRecord({ state: { a: 1 }, idem: [], version: 3 }));
    assert.equal(v3.version, 3);
    assert.deepEqual(v3.state, { a: 1 });
  });

  test('a class with a version above 1 and no migrate stops the node at start-up', async () => {
    const grid = new EmbeddedGrid();
    await grid.start();
    try {
      await assert.rejects(start(BAD, grid), /actor Unmigratable: static version 2 needs a static migrate\(state, fromVersion\)/);
    } finally {
      await grid.close();
    }
  });
});

describe('a rolling update from version 1 to version 2 on one grid', () => {
  let grid: EmbeddedGrid;
  let old: NodeHandle;
  let updated: NodeHandle;
  const clients: TroupeClient[] = [];
  /** What each key's total must be: the sum of every acknowledged add. */
  const expected = new Map<string, number>(KEYS.map((k) => [k, 0]));
  let refusals = 0;
  let seq = 0;
  let rounds = 0;

  before(async () => {
    grid = new EmbeddedGrid();
    await grid.start();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await old?.stop();
    await updated?.stop();
    await grid.close();
  });

  /**
   * One add per key, each sent to the next node in `nodes` (a load balancer
   * spreading calls), with an idem key; a call refused with E_VERSION is sent
   * to the next node with the same key, as a client or proxy retries a
   * retryable code. Any other failure fails the test: no call may be lost.
   */
  async function round(nodes: TroupeClient[], n: number): Promise<void> {
    const r = rounds++;
    await Promise.all(KEYS.map(async (key, i) => {
      const idem = `add-${++seq}`;
      for (let attempt = 0; ; attempt++) {
        const client = nodes[(i + r + attempt) % nodes.length]!;
        try {
          const total = await client.call('Tally', key, 'add', [n], { idem });
          expected.set(key, expected.get(key)! + n);
          assert.equal(total, expected.get(key), `Tally/${key} answered its running total`);
          return;
        } catch (err) {
          if ((err as { code?: string }).code !== 'E_VERSION' || attempt > 4) throw err;
          refusals++;
        }
      }
    }));
  }

  test('old code alone writes version-1 records', async () => {
    old = await start(V1, grid);
    const c = await connect({ url: old.address.ws });
    clients.push(c);
    for (let r = 1; r <= 3; r++) await round([c], r);
    for (const key of KEYS) {
      const rec = decodeRecord(record(grid, key).data);
      assert.equal(rec.version, 1);
      assert.deepEqual(rec.state, { total: expected.get(key) });
    }
  });

  test('old and new side by side: new code migrates what it loads, old code refuses version-2 records, no call lost', async () => {
    updated = await start(V2, grid);
    const c = await connect({ url: updated.address.ws });
    clients.push(c);
    for (let r = 0; r < 8; r++) await round(clients, 1 + (r % 3));
    assert.ok(refusals > 0, 'the old node met version-2 records and refused them (E_VERSION)');
    for (const key of KEYS) {
      const rec = decodeRecord(record(grid, key).data);
      // Each key was written by the new node at least once in 8 rounds over 2 nodes, so it is version 2 now.
      assert.equal(rec.version, 2, `Tally/${key}'s version`);
      const state = rec.state as { total: number; adds: number; unit: string };
      assert.equal(state.total, expected.get(key), `Tally/${key}'s total`);
      assert.equal(state.unit, 'items', 'the field added in version 2 is set by migrate, not undefined');
      assert.equal(typeof state.adds, 'number');
    }
  });

  test('then only new code: every record at version 2 with every acknowledged add', async () => {
    await old.drain(2_000);
    await old.stop();
    await clients.shift()!.close();
    for (let r = 0; r < 3; r++) await round(clients, 5);
    for (const key of KEYS) {
      const rec = decodeRecord(record(grid, key).data);
      assert.equal(rec.version, 2);
      assert.equal((rec.state as { total: number }).total, expected.get(key));
      assert.equal(await clients[0]!.call('Tally', key, 'get', []).then((s) => (s as { total: number }).total), expected.get(key));
    }
  });

  test('an old node started again refuses version-2 records with E_VERSION and leaves them untouched', async () => {
    const late = await start(V1, grid);
    try {
      const before = record(grid, 't0');
      const c = await connect({ url: late.address.ws });
      try {
        await assert.rejects(c.call('Tally', 't0', 'add', [1]), (e: unknown) => {
          const err = e as { code: string; message: string; details?: unknown };
          return err.code === 'E_VERSION' && /state version 2, newer than this node's code \(version 1\)/.test(err.message);
        });
        await assert.rejects(c.call('Tally', 't0', 'get', []), { code: 'E_VERSION' });
      } finally {
        await c.close();
      }
      const res = await fetch(`${late.address.http}/v1/actors/Tally/t0/get`, { method: 'POST', body: '[]' });
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { code: string }).code, 'E_VERSION');
      const now = record(grid, 't0');
      assert.equal(now.version, before.version, 'no write');
      assert.deepEqual(Buffer.from(now.data), Buffer.from(before.data), 'the record is byte for byte as the new code left it');
    } finally {
      await late.stop();
    }
  });
});
