/** Turn semantics: ordering, commit before reply, actor-to-actor calls. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedGrid } from '../grid/embedded/embedded-grid.js';
import type { RecordWrite, VersionedRecord, WriteOutcome } from '../grid/index.js';
import { decodeRecord } from '../runtime/record.js';
import { startNode } from './fixtures/node.js';
import { nodeOnGrid } from './fixtures/node-on-grid.js';
import { RawClient } from './fixtures/raw-client.js';

/** An embedded grid whose commits wait until the test opens the gate. */
class GatedGrid extends EmbeddedGrid {
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  commits = 0;

  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }

  release(): void {
    this.open?.();
    this.gate = null;
  }

  override async commit(writes: readonly RecordWrite[]): Promise<WriteOutcome[]> {
    if (this.gate !== null) await this.gate;
    this.commits++;
    return super.commit(writes);
  }
}

describe('turns', () => {
  const s = nodeOnGrid(() => new GatedGrid());

  test('turns of one actor run in arrival order under load, across batches and connections', async () => {
    const senders = await Promise.all([RawClient.connect(s.node.port), RawClient.connect(s.node.port), RawClient.connect(s.node.port)]);
    try {
      const perSender = 600;
      const waits: Promise<unknown>[] = [];
      // Frames of uneven sizes, interleaved across three connections.
      const sent = senders.map(() => 0);
      for (let round = 0; sent.some((n) => n < perSender); round++) {
        for (let s = 0; s < senders.length; s++) {
          const size = 1 + ((round * 7 + s * 11) % 37);
          const frame = [];
          for (let j = 0; j < size && sent[s]! < perSender; j++) {
            const id = `${s}:${sent[s]!++}`;
            frame.push({ op: 'call', id, actor: 'Log', key: 'order', method: 'append', args: [id] });
            waits.push(senders[s]!.reply(id, 20_000));
          }
          if (frame.length > 0) senders[s]!.sendBinary(frame);
        }
        // Let some frames land between rounds so batches form at different sizes.
        if (round % 5 === 0) await new Promise((r) => setImmediate(r));
      }
      const answers = (await Promise.all(waits)) as { value: number }[];
      assert.ok(answers.every((a) => typeof a.value === 'number'));
      // Each turn saw all earlier ones: the returned lengths are exactly 1..N.
      assert.deepEqual(answers.map((a) => a.value).sort((a, b) => a - b), Array.from({ length: answers.length }, (_, i) => i + 1));
      const items = (await s.client.call('Log', 'order', 'items')).value as string[];
      assert.equal(items.length, answers.length);
      for (let s = 0; s < senders.length; s++) {
        const mine = items.filter((x) => x.startsWith(`${s}:`)).map((x) => Number(x.split(':')[1]));
        assert.deepEqual(mine, [...mine].sort((a, b) => a - b), `sender ${s}'s calls ran out of order`);
      }
    } finally {
      for (const s of senders) s.close();
    }
  });

  test('no reply leaves before its state is committed to the grid', async () => {
    await s.client.call('Counter', 'gated', 'add', [1]);
    s.grid.hold();
    const before = s.grid.commits;
    s.client.sendBinary({ op: 'call', id: 'held', actor: 'Counter', key: 'gated', method: 'add', args: [2] });
    await assert.rejects(s.client.reply('held', 300), /no matching message/);
    assert.equal(s.grid.commits, before);
    s.grid.release();
    const r = await s.client.reply('held');
    assert.equal(r.value, 3);
    const [rec] = s.grid.readRecordsNow([{ type: 'Counter', key: 'gated' }]) as (VersionedRecord | undefined)[];
    assert.deepEqual(decodeRecord(rec!.data).state, { total: 3 });
  });

  test('a read-only turn writes nothing to the grid', async () => {
    await s.client.call('Counter', 'ro', 'add', [1]);
    const [before] = s.grid.readRecordsNow([{ type: 'Counter', key: 'ro' }]) as (VersionedRecord | undefined)[];
    await s.client.call('Counter', 'ro', 'get');
    const [after] = s.grid.readRecordsNow([{ type: 'Counter', key: 'ro' }]) as (VersionedRecord | undefined)[];
    assert.equal(after!.version, before!.version);
  });

  test('a write by someone else is never overwritten: the turn re-runs on the newer state', async () => {
    await s.client.call('Counter', 'stale', 'add', [1]);
    // Another writer (another node with a newer view) moves the record on behind this node's back.
    const [rec] = s.grid.readRecordsNow([{ type: 'Counter', key: 'stale' }]) as (VersionedRecord | undefined)[];
    const { encodeRecord } = await import('../runtime/record.js');
    const out = s.grid.commitNow([{ type: 'Counter', key: 'stale', expectedVersion: rec!.version, data: encodeRecord({ state: { total: 100 }, idem: [] }) }]);
    assert.equal(out[0]!.ok, true);
    const r = await s.client.call('Counter', 'stale', 'add', [1]);
    assert.equal(r.value, 101);
  });

  test('an actor calls another and awaits its answer', async () => {
    const r = await s.client.call('Caller', 'r1', 'forward', ['relayed', 'hello']);
    assert.equal(r.value, 1);
    assert.deepEqual((await s.client.call('Log', 'relayed', 'items')).value, ['hello']);
  });

  test('a tell from a turn is delivered after that turn commits', async () => {
    const r = await s.client.call('Caller', 'r2', 'tellLog', ['told', 'x']);
    assert.equal(r.value, 'sent');
    let items: unknown[] = [];
    for (let i = 0; i < 100 && items.length === 0; i++) {
      items = (await s.client.call('Log', 'told', 'items')).value as unknown[];
      if (items.length === 0) await new Promise((res) => setTimeout(res, 10));
    }
    assert.deepEqual(items, ['x']);
  });

  test('a call cycle between actors ends in E_TIMEOUT instead of hanging', async () => {
    const started = Date.now();
    const r = await s.client.call('Caller', 'cycle-a', 'ping', ['cycle-b', 300], { timeout: 3000 });
    assert.equal(r.op, 'error');
    assert.equal(r.code, 'E_TIMEOUT');
    assert.ok(Date.now() - started < 3000);
    // Both actors are free again afterwards.
    assert.equal((await s.client.call('Caller', 'cycle-a', 'forward', ['after-cycle', 1])).value, 1);
  });

  test('a slow async handler does not hold up other actors in the same pool', async () => {
    s.client.sendBinary({ op: 'call', id: 'slow-1', actor: 'Log', key: 'slow-iso', method: 'slowAppend', args: ['s', 500] });
    const started = Date.now();
    const r = await s.client.call('Counter', 'fast-iso', 'add', [1]);
    assert.equal(r.value, 1);
    assert.ok(Date.now() - started < 400, `fast actor waited ${Date.now() - started} ms behind a slow one`);
    await s.client.reply('slow-1');
  });
});

describe('a lost record', () => {
  test('calls to an actor whose record was lost fail with E_DATA_LOST; it never starts again from its initial state', async () => {
    const grid = new EmbeddedGrid();
    await grid.start();
    // --idle 1: the node forgets the actor at its next sweep (250 ms), so the next call reads the grid again.
    const node = await startNode(['--idle', '1'], { grid });
    const client = await RawClient.connect(node.port);
    try {
      for (let i = 1; i <= 3; i++) assert.equal((await client.call('Counter', 'lost', 'add', [1])).value, i);
      grid.loseRecord({ type: 'Counter', key: 'lost' });
      // Until the sweep the node still holds the record in memory and answers reads from it.
      let r = await client.call('Counter', 'lost', 'get');
      for (let i = 0; i < 60 && r.op !== 'error'; i++) {
        await new Promise((res) => setTimeout(res, 50));
        r = await client.call('Counter', 'lost', 'get');
      }
      assert.equal(r.code, 'E_DATA_LOST', JSON.stringify(r));
      assert.match(String(r.message), /Counter\/lost/);
      const add = await client.call('Counter', 'lost', 'add', [1]);
      assert.equal(add.code, 'E_DATA_LOST', 'a write is refused too, so the actor is not recreated at its initial state');
      assert.deepEqual(grid.readRecordsNow([{ type: 'Counter', key: 'lost' }]).map((x) => x !== undefined && 'lost' in x), [true]);
      // Other actors are not affected.
      assert.equal((await client.call('Counter', 'not-lost', 'add', [1])).value, 1);
    } finally {
      client.close();
      await node.stop();
      await grid.close();
    }
  });
});
