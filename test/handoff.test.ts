/**
 * Shard handoff and the wake index: a node that gains a shard reads the
 * shard's wake index when it gains it and again once the handoff wait is
 * over, because the previous owner may still have written entries (a
 * reminder scheduled, a tell committed) until it saw the change or fenced
 * itself. Without the second read such a reminder waited for the periodic
 * rescan (30 s) and was missed by anyone expecting it on time.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RecordKey, WakeEntry, WakeIndex, WakeMark } from '../grid/index.js';
import { HANDOFF_SETTLE_MS, JOIN_HANDOFF_MS, ShardHandoff } from '../runtime/cluster/shard-handoff.js';
import { Wakeups } from '../runtime/reminders/wakeups.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A wake index in memory: entries written straight into it stand for another node's writes. */
class MemoryIndex implements WakeIndex {
  readonly entries = new Map<string, WakeEntry>();
  scans = 0;
  private tag = 0;
  async lower(shard: number, actor: RecordKey, due: number): Promise<WakeMark> {
    const id = `${shard}/${actor.type}/${actor.key}`;
    const old = this.entries.get(id);
    const mark = { due: Math.min(due, old?.mark.due ?? Infinity), tag: ++this.tag };
    this.entries.set(id, { shard, type: actor.type, key: actor.key, mark });
    return mark;
  }
  async removeIf(shard: number, actor: RecordKey, mark: WakeMark): Promise<boolean> {
    const id = `${shard}/${actor.type}/${actor.key}`;
    if (this.entries.get(id)?.mark.tag !== mark.tag) return false;
    this.entries.delete(id);
    return true;
  }
  async scan(shards: ReadonlySet<number>): Promise<WakeEntry[]> {
    this.scans++;
    return [...this.entries.values()].filter((e) => shards.has(e.shard));
  }
}

describe('shard handoff', () => {
  test('says when gained shards may be served: one lease after a departed owner, at least the join wait after a live one', async () => {
    const servable: number[][] = [];
    const handoff = new ShardHandoff(300, (shards) => servable.push([...shards]));
    const t0 = Date.now();
    handoff.gained(new Map([[1, 'gone'], [2, 'alive']]), (id) => id === 'alive', t0);
    assert.ok(handoff.delay(1, t0) >= 300);
    assert.ok(handoff.delay(2, t0) >= Math.max(JOIN_HANDOFF_MS, 300), 'a live owner gets at least the join wait and the lease');
    await sleep(Math.max(JOIN_HANDOFF_MS, 300) + HANDOFF_SETTLE_MS + 100);
    assert.deepEqual(servable, [[1, 2]], 'told once the last of them may be served, after the settle time');
    handoff.close();
  });

  test('a wake-up the previous owner indexed during the handoff is found once the handoff ends', async () => {
    const index = new MemoryIndex();
    const woken: string[] = [];
    let owns = false;
    const wakeups = new Wakeups({ index, ownsShard: () => owns, wake: (type, key) => woken.push(`${type}/${key}`), log: { log() {} }, rescanMs: 0 });
    owns = true;
    wakeups.ownershipChanged();
    await sleep(20);
    assert.equal(index.scans, 1, 'the gained shards are read at once');
    // The previous owner, not yet aware of the change, schedules a reminder due now.
    await index.lower(7, { type: 'Ticker', key: 'late' }, Date.now());
    await sleep(50);
    assert.deepEqual(woken, [], 'the first read could not see it');
    wakeups.rescanShards([7]);
    await sleep(50);
    assert.deepEqual(woken, ['Ticker/late']);
    wakeups.close();
  });
});
