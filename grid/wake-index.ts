/**
 * The wake index: which actors of a shard need a turn without a message, and
 * from when. An actor is in it while its outbox may hold tells not yet
 * acknowledged (due 0: at once) or while it may have reminders (due: no later
 * than the earliest). The node that gains a shard reads that shard's entries,
 * so a node that dies delays tells and reminders by the failover time, never
 * loses them.
 *
 * A capability of its own, beside the records (as Orleans keeps its reminder
 * table apart from grain storage). The records stay the authority; an entry
 * only says "look at this actor by then", and one that is too early costs a
 * turn that finds nothing to do. So entries are only ever lowered, and
 * removed when an idle actor needs nothing; and because the index and the
 * records are separate writes, the runtime lowers an entry before it commits
 * the record that needs it.
 *
 * Every write stores a fresh tag with the due time. A removal names the tag
 * it expects, so an entry another node lowered or touched meanwhile (while
 * two nodes' views of the cluster differ) survives a removal decided on an
 * older view.
 */
import type { RecordKey } from './grid.js';

/** What an entry holds: the due time (epoch ms; 0: at once) and the tag of the write that set it. */
export interface WakeMark {
  readonly due: number;
  readonly tag: number;
}

export interface WakeEntry extends RecordKey {
  readonly shard: number;
  readonly mark: WakeMark;
}

export interface WakeIndex {
  /**
   * Makes the actor's entry due no later than `due`: creates it, or lowers
   * it, and in both cases stores a fresh tag (so a removal decided before
   * this write fails). Returns what the entry holds now.
   */
  lower(shard: number, actor: RecordKey, due: number): Promise<WakeMark>;
  /** Removes the actor's entry if it still holds `mark`; returns whether it did. */
  removeIf(shard: number, actor: RecordKey, mark: WakeMark): Promise<boolean>;
  /** Every entry of the given shards, read from the data's owners (no cache). */
  scan(shards: ReadonlySet<number>): Promise<WakeEntry[]>;
}

/** How engines key an entry: `<shard> NUL <type> NUL <key>`. */
export function wakeId(shard: number, actor: RecordKey): string {
  return `${shard}\u0000${actor.type}\u0000${actor.key}`;
}

export function parseWakeId(id: string): (RecordKey & { shard: number }) | undefined {
  const a = id.indexOf('\u0000');
  const b = a < 0 ? -1 : id.indexOf('\u0000', a + 1);
  if (b < 0) return undefined;
  const shard = Number(id.slice(0, a));
  return Number.isInteger(shard) ? { shard, type: id.slice(a + 1, b), key: id.slice(b + 1) } : undefined;
}
