import { decodeStored, encodeFenced, encodeValue as pack, fenceOf } from '../value-codec.js';
import { LockQueue } from '../lock-queue.js';
import { Errors } from '../../protocol/errors.js';
import type { WakeIndex } from '../wake-index.js';
import { EmbeddedWakeIndex } from './embedded-wake-index.js';
import type { Grid, GridCounter, GridHealth, GridLockHandle, GridMap, RecordKey, RecordRead, RecordWrite, VersionedRecord, WriteOutcome } from '../grid.js';

/**
 * The in-process grid: one node, nothing to install. It keeps the same
 * contract as Hazelcast (version-checked writes, copies on every boundary) so
 * that code written against it behaves the same on a cluster; it does not
 * survive the process.
 */
export class EmbeddedGrid implements Grid {
  readonly engine = 'embedded';
  private readonly records = new Map<string, Map<string, VersionedRecord>>();
  /** Existence markers, apart from the records: every key that ever had a record, per type. */
  private readonly existed = new Map<string, Set<string>>();
  private readonly maps = new Map<string, Map<string, Uint8Array>>();
  private readonly counters = new Map<string, number>();
  private readonly locks = new LockQueue();
  private readonly lockTokens = new Map<string, number>();
  private closed = false;
  private readonly wakes = new EmbeddedWakeIndex(() => this.checkOpen());

  async start(): Promise<void> {
    this.closed = false;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** An in-process grid never restarts under its callers: nothing to report. */
  onReset(_listener: () => void): void {}

  health(): GridHealth {
    return this.closed ? { ready: false, detail: 'closed' } : { ready: true, durability: { mode: 'none', detail: 'in-process memory: lost with the process' } };
  }

  private table(type: string): Map<string, VersionedRecord> {
    let t = this.records.get(type);
    if (t === undefined) {
      t = new Map();
      this.records.set(type, t);
    }
    return t;
  }

  private checkOpen(): void {
    if (this.closed) throw Errors.unavailable('the embedded grid (closed)');
  }

  /** Records read since start (tests count grid round trips with it). */
  readsSoFar = 0;

  /** Synchronous form used by the runtime's fast path; same semantics as readRecords. */
  readRecordsNow(keys: readonly RecordKey[]): RecordRead[] {
    this.checkOpen();
    this.readsSoFar += keys.length;
    // A copy per read, as a networked engine returns: a caller decoding in place cannot alter the stored record.
    return keys.map((k) => {
      const r = this.records.get(k.type)?.get(k.key);
      if (r !== undefined) return { version: r.version, data: r.data.slice() };
      return this.existed.get(k.type)?.has(k.key) === true ? { lost: true, detail: 'its existence marker is set but the record is gone' } : undefined;
    });
  }

  /**
   * Drops a record and keeps its existence marker, as a crash that took every
   * copy would. Nothing in an embedded grid loses records by itself: this is
   * how the Grid contract tests check that loss is reported on every engine.
   */
  loseRecord(key: RecordKey): void {
    this.records.get(key.type)?.delete(key.key);
  }

  /** Synchronous form of commit: applying a Map write cannot fail half-way. */
  commitNow(writes: readonly RecordWrite[]): WriteOutcome[] {
    this.checkOpen();
    const out: WriteOutcome[] = new Array(writes.length);
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i]!;
      const t = this.table(w.type);
      const current = t.get(w.key);
      const currentVersion = current === undefined ? 0 : current.version;
      if (currentVersion !== w.expectedVersion) {
        out[i] = current === undefined ? { ok: false, conflict: true } : { ok: false, conflict: true, current: { version: current.version, data: current.data.slice() } };
        continue;
      }
      const version = currentVersion + 1;
      // Copied: the caller may reuse its buffer after commit.
      t.set(w.key, { version, data: w.data.slice() });
      if (version === 1) this.markExisted(w.type, w.key);
      out[i] = { ok: true, version };
    }
    return out;
  }

  private markExisted(type: string, key: string): void {
    let set = this.existed.get(type);
    if (set === undefined) this.existed.set(type, (set = new Set()));
    set.add(key);
  }

  async readRecords(keys: readonly RecordKey[]): Promise<RecordRead[]> {
    return this.readRecordsNow(keys);
  }

  async commit(writes: readonly RecordWrite[]): Promise<WriteOutcome[]> {
    return this.commitNow(writes);
  }

  wakeIndex(): WakeIndex {
    return this.wakes;
  }

  /** Every map of the embedded grid is read in place: consistent or not, the same. */
  map(name: string, _options?: { readonly consistent?: boolean }): GridMap {
    let m = this.maps.get(name);
    if (m === undefined) {
      m = new Map();
      this.maps.set(name, m);
    }
    const store = m;
    // Values are stored encoded, so a caller mutating an object after set() cannot change the grid's copy.
    return {
      get: async (key) => {
        this.checkOpen();
        const v = store.get(key);
        return v === undefined ? undefined : decodeStored(v).value;
      },
      set: async (key, value, fence) => {
        this.checkOpen();
        if (fence === undefined) {
          store.set(key, pack(value));
          return;
        }
        const stored = store.get(key);
        const newer = stored === undefined ? 0 : fenceOf(stored);
        if (newer > fence) throw Errors.fenced(`hot-map entry '${key}'`, fence, newer);
        store.set(key, encodeFenced(value, fence));
      },
      delete: async (key) => {
        this.checkOpen();
        return store.delete(key);
      },
      keys: async () => {
        this.checkOpen();
        return [...store.keys()];
      },
    };
  }

  counter(name: string): GridCounter {
    return {
      get: async () => {
        this.checkOpen();
        return this.counters.get(name) ?? 0;
      },
      addAndGet: async (delta) => {
        this.checkOpen();
        const v = (this.counters.get(name) ?? 0) + delta;
        this.counters.set(name, v);
        return v;
      },
    };
  }

  async lock(name: string, leaseMs: number, waitMs = leaseMs): Promise<GridLockHandle> {
    this.checkOpen();
    const slot = await this.locks.take(name, waitMs, leaseMs);
    const token = (this.lockTokens.get(name) ?? 0) + 1;
    this.lockTokens.set(name, token);
    return { token, expiresAt: slot.expiresAt, release: async () => void slot.release() };
  }
}
