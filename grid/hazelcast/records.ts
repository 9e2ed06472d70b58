import type { RecordKey, RecordWrite, VersionedRecord, WriteOutcome } from '../grid.js';
import { type LastSeen, recordId } from './last-seen.js';
import type { MapSource } from './map-source.js';
import { actorMapName } from './names.js';
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
 * Measured with grid/hazelcast/measure.js (2-core box, 264-byte values, 1000
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
 */
export class RecordStore {
  constructor(
    private readonly maps: MapSource,
    private readonly seen: LastSeen,
  ) {}

  async read(keys: readonly RecordKey[]): Promise<(VersionedRecord | undefined)[]> {
    const byType = new Map<string, Set<string>>();
    for (const k of keys) {
      let set = byType.get(k.type);
      if (set === undefined) byType.set(k.type, (set = new Set()));
      set.add(k.key);
    }
    const found = new Map<string, Buffer>();
    // One getAll per actor type: the client splits it per member, so a batch
    // costs one round trip per member rather than one per key.
    await Promise.all(
      [...byType].map(async ([type, keySet]) => {
        const map = await this.maps(actorMapName(type));
        const wanted = [...keySet];
        if (wanted.length === 1) {
          const v = await map.get(wanted[0]!);
          if (v != null) found.set(recordId(type, wanted[0]!), v);
          return;
        }
        for (const [key, v] of await map.getAll(wanted)) {
          if (v != null) found.set(recordId(type, key), v);
        }
      }),
    );
    return keys.map((k) => {
      const id = recordId(k.type, k.key);
      const stored = found.get(id);
      if (stored === undefined) {
        this.seen.delete(id);
        return undefined;
      }
      this.seen.set(id, stored);
      return decodeRecord(stored);
    });
  }

  /**
   * Sends every write at once (the client pipelines them over its
   * connections) and resolves when all have been acknowledged, by the owner
   * and its synchronous backup. Two writes to the same record in one batch
   * run in batch order, as they would on the embedded grid.
   *
   * If any write fails (grid unreachable), the commit rejects after every
   * write has settled; some writes may have landed. The caller must then
   * reload before writing again: a write that landed shows as a newer version.
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
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
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
        return { ok: true, version };
      }
      return this.conflict(id, existing, next);
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
