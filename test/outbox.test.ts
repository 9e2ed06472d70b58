/**
 * Effects of a turn exactly once, on the embedded grid: tells committed with
 * the state and delivered until acknowledged, calls made again by a re-run
 * turn answered from the callee's record, one failed write failing only its
 * own callers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedGrid } from '../grid/embedded/embedded-grid.js';
import type { RecordWrite, WriteOutcome } from '../grid/index.js';
import { decodeRecord } from '../runtime/record.js';
import type { VersionedRecord } from '../grid/index.js';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';
import { nodeOnGrid } from './fixtures/node-on-grid.js';
import { until } from './fixtures/until.js';
import { RawClient } from './fixtures/raw-client.js';

/** An embedded grid that can refuse the writes of chosen actor types, one record at a time. */
class FaultyGrid extends EmbeddedGrid {
  readonly refuse = new Set<string>();
  override async commit(writes: readonly RecordWrite[]): Promise<WriteOutcome[]> {
    const ok = writes.filter((w) => !this.refuse.has(w.type));
    const landed = this.commitNow(ok);
    let j = 0;
    return writes.map((w) => (this.refuse.has(w.type) ? { ok: false as const, conflict: false as const, error: { code: 'E_UNAVAILABLE' as const, message: 'refused by the test' } } : landed[j++]!));
  }
}


async function metric(node: TroupeNode, name: string): Promise<number> {
  const text = await node.metrics.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('outbox and turn identity', () => {
  const s = nodeOnGrid(() => new FaultyGrid());

  test('a tell is committed in the sender\'s record with its state, delivered after, and leaves the outbox once acknowledged', async () => {
    assert.equal((await s.client.call('Relay', 'r-ack', 'forward', ['c-ack', 5])).value, true);
    const total = await until('counter', async () => (await s.client.call('Counter', 'c-ack', 'get')).value as number, (v) => v === 5);
    assert.equal(total, 5);
    // The acknowledgement is removed by a turn of the sender's own (none comes here), within a few flush periods.
    await until('outbox of r-ack', async () => decodeRecord((s.grid.readRecordsNow([{ type: 'Relay', key: 'r-ack' }])[0] as VersionedRecord).data).outbox.length, (n) => n === 0);
    const rec = decodeRecord((s.grid.readRecordsNow([{ type: 'Relay', key: 'r-ack' }])[0] as VersionedRecord).data);
    assert.equal(rec.outSeq, 1);
    assert.equal(await metric(s.node, 'troupe_outbox_pending'), 0);
  });

  test('many tells from one sender to one target each take effect once, and the target keeps few of their keys', async () => {
    const rounds = 15;
    const perRound = 20;
    for (let r = 1; r <= rounds; r++) {
      await Promise.all(Array.from({ length: perRound }, () => s.client.call('Relay', 'r-many', 'forward', ['c-many', 1])));
      await until('c-many', async () => (await s.client.call('Counter', 'c-many', 'get')).value as number, (v) => v === r * perRound);
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await s.client.call('Counter', 'c-many', 'get')).value, rounds * perRound);
    // Each tell carries the sender's oldest unacknowledged number, so the target drops the keys of earlier rounds
    // (without that it would keep all 300: they are younger than --idem-min-age).
    const target = decodeRecord((s.grid.readRecordsNow([{ type: 'Counter', key: 'c-many' }])[0] as VersionedRecord).data);
    assert.ok(target.idem.length <= 2 * perRound, `target keeps ${target.idem.length} tell keys`);
  });

  test('a turn run again after a version conflict makes its calls with the same keys: the callee applies them once', async () => {
    // A second node on the same grid believes it owns every actor too (views differ): both run Caller/x.
    const other = await startNode([], { grid: s.grid });
    const otherClient = await RawClient.connect(other.port);
    try {
      // Both nodes load Caller/x at version 0.
      await s.client.call('Caller', 'x', 'hopsSoFar');
      await otherClient.call('Caller', 'x', 'hopsSoFar');
      // This node commits a turn; the other node's cached record is now stale.
      assert.equal((await s.client.call('Caller', 'x', 'appendAndCount', ['log-x', 'first'])).value, 1);
      // The other node's turn calls Log, then conflicts at commit, and runs again on the fresh record.
      assert.equal((await otherClient.call('Caller', 'x', 'appendAndCount', ['log-x', 'second'])).value, 2);
      // Read from the grid: this node's cached Log record is stale (the other node wrote it).
      const [log] = s.grid.readRecordsNow([{ type: 'Log', key: 'log-x' }]) as (VersionedRecord | undefined)[];
      assert.deepEqual((decodeRecord(log!.data).state as { items: unknown[] }).items, ['first', 'second']);
    } finally {
      otherClient.close();
      await other.stop();
    }
  });

  test('a tell to an actor type that does not exist is logged, counted and dropped, not retried forever', async () => {
    const before = await metric(s.node, 'troupe_outbox_undeliverable_total');
    assert.equal((await s.client.call('Caller', 'lost', 'tellNowhere', [])).value, 'sent');
    await until('undeliverable count', () => metric(s.node, 'troupe_outbox_undeliverable_total'), (v) => v === before + 1);
    await until('outbox pending', () => metric(s.node, 'troupe_outbox_pending'), (v) => v === 0);
  });

  test('a tell whose target cannot commit waits in the outbox (visible in /metrics) and is delivered once the target can', async () => {
    s.grid.refuse.add('Log');
    try {
      assert.equal((await s.client.call('Caller', 'waits', 'tellLog', ['log-waits', 'w'])).value, 'sent');
      await until('outbox pending', () => metric(s.node, 'troupe_outbox_pending'), (v) => v === 1);
      await until('retries', () => metric(s.node, 'troupe_outbox_retries_total'), (v) => v >= 2);
    } finally {
      s.grid.refuse.delete('Log');
    }
    await until('log-waits', async () => (await s.client.call('Log', 'log-waits', 'items')).value as unknown[], (v) => v.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual((await s.client.call('Log', 'log-waits', 'items')).value, ['w']);
    await until('outbox pending', () => metric(s.node, 'troupe_outbox_pending'), (v) => v === 0);
  });

  test('one failed write fails only its own callers: the turns whose writes landed in the same commit are answered', async () => {
    s.grid.refuse.add('Log');
    try {
      const calls = [
        s.client.call('Counter', 'mixed-1', 'add', [1]),
        s.client.call('Log', 'mixed-2', 'append', ['x']),
        s.client.call('Counter', 'mixed-3', 'add', [1]),
      ];
      const [a, b, c] = await Promise.all(calls);
      assert.equal(a!.value, 1);
      assert.equal(b!.code, 'E_UNAVAILABLE');
      assert.equal(c!.value, 1);
    } finally {
      s.grid.refuse.delete('Log');
    }
    assert.deepEqual((await s.client.call('Log', 'mixed-2', 'items')).value, []);
  });

  test('a failed turn sends none of its tells', async () => {
    assert.equal((await s.client.call('Caller', 'fails', 'tellThenFail', ['log-fails'])).code, 'E_ACTOR_FAILED');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual((await s.client.call('Log', 'log-fails', 'items')).value, []);
  });

  test('client idem keys starting with ~ are refused: they are the runtime\'s own', async () => {
    const r = await s.client.call('Counter', 'tilde', 'add', [1], { idem: '~o:forged/1' });
    assert.equal(r.code, 'E_BAD_REQUEST');
    const res = await fetch(`http://127.0.0.1:${s.node.port}/v1/actors/Counter/tilde/add`, { method: 'POST', body: '[1]', headers: { 'idempotency-key': '~fwd:x/1' } });
    assert.equal(res.status, 400);
  });
});
