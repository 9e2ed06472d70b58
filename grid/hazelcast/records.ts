import { toErrorData } from '../../protocol/errors.js';
import type { RecordKey, RecordRead, RecordWrite, WriteOutcome } from '../grid.js';
import { toGridError } from './hazelcast-errors.js';
import { type LastSeen, recordId } from './last-seen.js';
import type { MapSource } from './map-source.js';
import { actorMapName, markerMapName } from './names.js';
import { decodeRecord, encodeRecord, versionOf } from './record-codec.js';

/**
 * Actor records on Hazelcast: reads and version-checked writes.
 *
 * How a write is version-checked, and why:
 *
 *   create (expectedVersion 0)   putIfAbsent(key, new): one round trip; on
 *                                conflict the reply already holds the current record.
 *   update                       replace(key, oldBytes, newBytes) (the client's
 *                                `replaceIfSame`), where oldBytes is what this
 *                                node last read or wrote (LastSeen). The member
 *                                compares the stored bytes, version header
 *                                included, atomically on the partition thread.
 *
 * Measured with bench/measure/hazelcast-engine.ts (2-core box, 264-byte values, 1000
 * in flight, second warm round; 1 member / 2 members with a sync backup):
 *
 *   blind IMap.set (no check, ceiling)   68-78k / 42k ops/s
 *   replaceIfSame, cached old bytes      63-65k / 30k ops/s   <- chosen
 *   get + replaceIfSame (cache miss)     35-36k / 24k ops/s   (fallback)
 *   lock + get + set + unlock            20-23k / 12k ops/s   (and a crashed
 *                                        holder blocks the key)
 *
 * So a version-checked write costs about what a blind write costs, as long as
 * the old bytes are at hand, which they are for the owner node of an actor. An
 * entry processor would check the version on the member without shipping the
 * old bytes, but needs Java code deployed on every member and the Node client
 * cannot define one. For large records replace() sends the value twice
 * (16 KB values: ~5.4k/s against ~11k/s for a blind set).
 *
 * A write whose reply was lost (member died, client replayed it with
 * redoOperation, or the caller retried a commit that failed with
 * E_UNAVAILABLE) finds exactly its own bytes stored at its version. That is
 * reported as success: the write id in the header makes those bytes unique to
 * this one write (see record-codec.ts), so another writer's identical state
 * at the same version is a conflict, as it must be.
 *
 * Loss is reported, never mistaken for a new actor: every record has an
 * existence marker in a map of its own (`troupe.exists.<Type>`, stored in its
 * own table and always written through when a store is configured). The
 * marker is written right after the record is created and before the create
 * is acknowledged; a read asks for records and markers in parallel (the same
 * round trip), and a record that is absent while its marker is present, and
 * still absent when read again after the marker was seen, reads as lost.
 * The order matters: marker first would make a create that failed half-way
 * look like a loss. A record found without its marker (its creator
 * died between the two writes, or it predates markers) gets one on that read,
 * before the record is handed out, so every record anyone acts on is covered.
 */
export class RecordStore {
  constructor(
    private readonly maps: MapSource,
    private readonly seen: LastSeen,
    private readonly clusterName: string,
  ) {}

  async read(keys: readonly RecordKey[]): Promise<RecordRead[]> {
    const byType = new Map<string, Set<string>>();
    for (const k of keys) {
      let set = byType.get(k.type);
      if (set === undefined) byType.set(k.type, (set = new Set()));
      set.add(k.key);
    }
    const found = new Map<string, Buffer>();
    const marked = new Set<string>();
    // One getAll per actor type and map: the client splits it per member, so a
    // batch costs one round trip per member rather than one per key, and the
    // markers travel beside the records.
    await Promise.all(
      [...byType].flatMap(([type, keySet]) => {
        const wanted = [...keySet];
        return [
          this.fetch(actorMapName(type), wanted, (key, v) => found.set(recordId(type, key), v)),
          this.fetch(markerMapName(type), wanted, (key) => marked.add(recordId(type, key))),
        ];
      }),
    );
    // A record that was absent while its marker was present may be one
    // created during this read: the two fetches run in parallel, so the
    // record's could have run before its creator's putIfAbsent and the
    // marker's after the marker write that follows it. The marker being
    // visible means the record was stored before it, so a second read of the
    // record, sent after the marker was seen, finds it unless it is really
    // gone. Only this rare case pays the extra round trip.
    const suspect = keys.filter((k) => {
      const id = recordId(k.type, k.key);
      return marked.has(id) && !found.has(id);
    });
    if (suspect.length > 0) {
      await Promise.all(
        suspect.map(async (k) => {
          const v = await (await this.maps(actorMapName(k.type))).get(k.key);
          if (v != null) found.set(recordId(k.type, k.key), v);
        }),
      );
    }
    const unmarked = keys.filter((k) => {
      const id = recordId(k.type, k.key);
      return found.has(id) && !marked.has(id);
    });
    if (unmarked.length > 0) await this.mark(unmarked);
    return keys.map((k) => {
      const id = recordId(k.type, k.key);
      const stored = found.get(id);
      if (stored === undefined) {
        this.seen.delete(id);
        return marked.has(id) ? { lost: true, detail: `${markerMapName(k.type)} marks it as created, ${actorMapName(k.type)} and its store no longer hold it` } : undefined;
      }
      this.seen.set(id, stored);
      return decodeRecord(stored);
    });
  }

  private async fetch(mapName: string, keys: string[], each: (key: string, value: Buffer) => void): Promise<void> {
    const map = await this.maps(mapName);
    if (keys.length === 1) {
      const v = await map.get(keys[0]!);
      if (v != null) each(keys[0]!, v);
      return;
    }
    for (const [key, v] of await map.getAll(keys)) if (v != null) each(key, v);
  }

  /** Writes existence markers: blind sets, so a repeat (a replayed create, two readers repairing) is harmless. */
  private async mark(keys: readonly RecordKey[]): Promise<void> {
    const value = markerValue();
    await Promise.all(keys.map(async (k) => (await this.maps(markerMapName(k.type))).set(k.key, value)));
  }

  /**
   * Sends every write at once (the client pipelines them over its
   * connections) and resolves when all have been acknowledged, by the owner
   * and its synchronous backup. Two writes to the same record in one batch
   * run in batch order, as they would on the embedded grid.
   *
   * Each write has its own outcome: one that fails (its member unreachable,
   * a timeout) is reported as failed, with its outcome unknown, while the
   * others' succeed or conflict as they did. The caller must reload a failed
   * record before writing it again: a write that landed shows as a newer
   * version. When every write failed the grid is down as far as this commit
   * can tell, and the commit rejects, so the grid's circuit breaker sees it.
   */
  async commit(writes: readonly RecordWrite[]): Promise<WriteOutcome[]> {
    const out = new Array<WriteOutcome>(writes.length);
    const tails = new Map<string, Promise<void>>();
    const pending = writes.map((w, i) => {
      const id = recordId(w.type, w.key);
      const before = tails.get(id);
      const run = before === undefined ? this.writeOne(w, id) : before.then(() => this.writeOne(w, id));
      const done = run.then((o) => {
        out[i] = o;
      });
      tails.set(id, done);
      return done;
    });
    const settled = await Promise.allSettled(pending);
    let failures = 0;
    for (let i = 0; i < settled.length; i++) {
      const s = settled[i]!;
      if (s.status === 'fulfilled') continue;
      failures++;
      out[i] = { ok: false, conflict: false, error: toErrorData(toGridError(s.reason, this.clusterName), 'E_UNAVAILABLE') };
    }
    if (failures > 0 && failures === settled.length) throw toGridError((settled[0] as PromiseRejectedResult).reason, this.clusterName);
    return out;
  }

  private async writeOne(w: RecordWrite, id: string): Promise<WriteOutcome> {
    const map = await this.maps(actorMapName(w.type));
    const version = w.expectedVersion + 1;
    const next = encodeRecord(version, w.data);

    if (w.expectedVersion === 0) {
      const existing = await map.putIfAbsent(w.key, next);
      if (existing == null) {
        this.seen.set(id, next);
        await this.mark([w]);
        return { ok: true, version };
      }
      const outcome = this.conflict(id, existing, next);
      // Our own create, replayed after a lost reply: its marker may not be written yet.
      if (outcome.ok) await this.mark([w]);
      return outcome;
    }

    let old = this.seen.get(id);
    if (old === undefined || versionOf(old) !== w.expectedVersion) {
      const stored = await map.get(w.key);
      if (stored == null) return this.absent(id);
      if (versionOf(stored) !== w.expectedVersion) return this.conflict(id, stored, next);
      old = stored;
    }
    if (await map.replaceIfSame(w.key, old, next)) {
      this.seen.set(id, next);
      return { ok: true, version };
    }
    // Lost the race: one more read so the caller gets the current record
    // without a round trip of its own.
    const current = await map.get(w.key);
    return current == null ? this.absent(id) : this.conflict(id, current, next);
  }

  private conflict(id: string, current: Buffer, attempted: Buffer): WriteOutcome {
    this.seen.set(id, current);
    if (current.equals(attempted)) return { ok: true, version: versionOf(current) };
    return { ok: false, conflict: true, current: decodeRecord(current) };
  }

  private absent(id: string): WriteOutcome {
    this.seen.delete(id);
    return { ok: false, conflict: true };
  }
}

/** A marker's value: when it was written (ms since the epoch, 8 bytes), for an operator reading the table. */
function markerValue(): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(Date.now()));
  return b;
}
