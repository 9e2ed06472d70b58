import type { IMap } from 'hazelcast-client';
import { Errors } from '../../protocol/errors.js';
import type { RecordKey } from '../grid.js';
import { parseWakeId, wakeId, type WakeEntry, type WakeIndex, type WakeMark } from '../wake-index.js';
import { markBytes, newMark, readMark } from '../wake-mark.js';

/** Compare-and-set rounds before `lower` gives up (another writer keeps winning: only while views differ). */
const LOWER_ATTEMPTS = 16;

/**
 * The wake index on Hazelcast: one IMap (`troupe.wake`), key = shard, type
 * and key, value = a 16-byte mark (due time and write tag, see
 * wake-mark.ts); bytes like every other Troupe map, so a member-side
 * MapStore stores them as they are.
 *
 * One map, not one per shard: a map per shard looked cheaper to scan, but
 * 271 maps on the members mean 271 x 271 partition record stores, which
 * starved a 128 MB test member into dropping its clients. The map holds
 * only actors with tells or reminders pending, so a node reads it whole
 * (`entrySet`) and keeps its own shards' entries: that happens at start,
 * when shards move, and every rescan.
 *
 * `lower` is a compare-and-set loop (get, then putIfAbsent or
 * replace(key, old, new)): two round trips, paid when an actor first needs
 * waking and when it schedules an earlier reminder, not per turn.
 * `removeIf` is the member's atomic remove(key, value).
 */
export class HazelcastWakeIndex implements WakeIndex {
  constructor(
    private readonly map: () => IMap<string, Buffer> | Promise<IMap<string, Buffer>>,
    private readonly guard: <T>(op: () => Promise<T>) => Promise<T>,
  ) {}

  lower(shard: number, actor: RecordKey, due: number): Promise<WakeMark> {
    return this.guard(async () => {
      const map = await this.map();
      const id = wakeId(shard, actor);
      for (let i = 0; i < LOWER_ATTEMPTS; i++) {
        const stored = await map.get(id);
        const old = stored == null ? undefined : readMark(stored);
        const next = newMark(old === undefined ? due : Math.min(old.due, due));
        if (stored == null) {
          if ((await map.putIfAbsent(id, next.bytes)) == null) return next.mark;
        } else if (await map.replaceIfSame(id, stored, next.bytes)) {
          return next.mark;
        }
      }
      throw Errors.unavailable(`the wake index entry of ${actor.type}/${actor.key} (changed by others ${LOWER_ATTEMPTS} times in a row)`);
    });
  }

  removeIf(shard: number, actor: RecordKey, mark: WakeMark): Promise<boolean> {
    return this.guard(async () => (await (await this.map()).remove(wakeId(shard, actor), markBytes(mark))) === true);
  }

  scan(shards: ReadonlySet<number>): Promise<WakeEntry[]> {
    return this.guard(async () => {
      const out: WakeEntry[] = [];
      for (const [id, value] of await (await this.map()).entrySet()) {
        const e = parseWakeId(id);
        const mark = value == null ? undefined : readMark(value);
        if (e !== undefined && mark !== undefined && shards.has(e.shard)) out.push({ ...e, mark });
      }
      return out;
    });
  }
}
