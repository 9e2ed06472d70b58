import { decodeValue as unpack, encodeValue as pack } from '../value-codec.js';
import { Errors } from '../../protocol/errors.js';
import type { Grid, GridCounter, GridHealth, GridLockHandle, GridMap, RecordKey, RecordWrite, VersionedRecord, WriteOutcome } from '../grid.js';

/**
 * The in-process grid: one node, nothing to install. It keeps the same
 * contract as Hazelcast (version-checked writes, copies on every boundary) so
 * that code written against it behaves the same on a cluster; it does not
 * survive the process.
 */
export class EmbeddedGrid implements Grid {
  readonly engine = 'embedded';
  private readonly records = new Map<string, Map<string, VersionedRecord>>();
  private readonly maps = new Map<string, Map<string, Uint8Array>>();
  private readonly counters = new Map<string, number>();
  private readonly locks = new Map<string, (() => void)[]>();
  private closed = false;

  async start(): Promise<void> {
    this.closed = false;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  health(): GridHealth {
    return this.closed ? { ready: false, detail: 'closed' } : { ready: true };
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

  /** Synchronous form used by the runtime's fast path; same semantics as readRecords. */
  readRecordsNow(keys: readonly RecordKey[]): (VersionedRecord | undefined)[] {
    this.checkOpen();
    // A copy per read, as a networked engine returns: a caller decoding in place cannot alter the stored record.
    return keys.map((k) => {
      const r = this.records.get(k.type)?.get(k.key);
      return r === undefined ? undefined : { version: r.version, data: r.data.slice() };
    });
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
      out[i] = { ok: true, version };
    }
    return out;
  }

  async readRecords(keys: readonly RecordKey[]): Promise<(VersionedRecord | undefined)[]> {
    return this.readRecordsNow(keys);
  }

  async commit(writes: readonly RecordWrite[]): Promise<WriteOutcome[]> {
    return this.commitNow(writes);
  }

  map(name: string): GridMap {
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
        return v === undefined ? undefined : unpack(v);
      },
      set: async (key, value) => {
        this.checkOpen();
        store.set(key, pack(value));
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

  async lock(name: string, timeoutMs: number): Promise<GridLockHandle> {
    this.checkOpen();
    const waiters = this.locks.get(name);
    if (waiters === undefined) {
      this.locks.set(name, []);
      return this.handle(name);
    }
    return new Promise<GridLockHandle>((resolve, reject) => {
      const grant = (): void => {
        clearTimeout(timer);
        resolve(this.handle(name));
      };
      const timer = setTimeout(() => {
        const i = waiters.indexOf(grant);
        if (i >= 0) waiters.splice(i, 1);
        reject(Errors.timeout(timeoutMs, `lock '${name}'`));
      }, timeoutMs);
      waiters.push(grant);
    });
  }

  private handle(name: string): GridLockHandle {
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        const waiters = this.locks.get(name);
        const next = waiters?.shift();
        if (next !== undefined) next();
        else this.locks.delete(name);
      },
    };
  }
}
