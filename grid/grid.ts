/**
 * The Grid: where every byte of actor state lives. The runtime talks to this
 * interface only; `embedded` and `hazelcast` implement it side by side and
 * configuration picks one (see `grid/index.ts`).
 *
 * Actor records are opaque, versioned blobs. The runtime decides what is in
 * them (state, idempotency results); the grid only guarantees that a write
 * lands if and only if the stored version is the one the writer read. That
 * single rule is what keeps a node with a stale view of shard ownership from
 * overwriting newer state.
 */
import type { ErrorData } from '../protocol/errors.js';
import type { WakeIndex } from './wake-index.js';

/** Address of one actor record: the actor type names the map, the key the entry. */
export interface RecordKey {
  readonly type: string;
  readonly key: string;
}

/** A stored actor record. Version 0 never exists in the grid: it means "absent". */
export interface VersionedRecord {
  readonly version: number;
  readonly data: Uint8Array;
}

/**
 * A record the grid can no longer produce although it has evidence that it
 * existed. Engines keep that evidence apart from the records (an existence
 * marker written when a record is created, in a map and table of its own), so
 * losing a record (a crash that took every copy, a row deleted by hand) is
 * reported, never mistaken for an actor that was never used.
 */
export interface LostRecord {
  readonly lost: true;
  /** What the engine knows about the loss, for the operator (logs, the error message). */
  readonly detail: string;
}

/** One answer of `readRecords`: the record, `undefined` (never existed), or lost. */
export type RecordRead = VersionedRecord | LostRecord | undefined;

export function isLost(read: RecordRead): read is LostRecord {
  return read !== undefined && (read as LostRecord).lost === true;
}

/** One version-checked write. `expectedVersion` 0 means "create; fail if it exists". */
export interface RecordWrite extends RecordKey {
  readonly expectedVersion: number;
  readonly data: Uint8Array;
}

/**
 * Outcome of one write in a commit batch; each write succeeds or fails on its
 * own. On conflict, `current` is what the grid holds now (absent when the
 * record was deleted), so the writer can reload without a second round trip
 * where the engine can provide it. A failed write's outcome is unknown (it
 * may have landed): the writer must reload before writing that record again.
 */
export type WriteOutcome =
  | { readonly ok: true; readonly version: number }
  | { readonly ok: false; readonly conflict: true; readonly current?: VersionedRecord }
  | { readonly ok: false; readonly conflict: false; readonly error: ErrorData };

/** A shared map for hot data actors read and write outside their own state. */
export interface GridMap {
  get(key: string): Promise<unknown>;
  /**
   * Writes a value. With `fence` (a lock's fencing token), the write lands
   * only if the entry was not written under a newer token: it rejects with
   * E_FENCED otherwise, so a holder whose lease ran out cannot overwrite what
   * the next holder wrote.
   */
  set(key: string, value: unknown, fence?: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Every key, from the owners (not a near cache). Meant for small maps such as journals. */
  keys(): Promise<string[]>;
}

/** A cluster-wide counter. */
export interface GridCounter {
  get(): Promise<number>;
  addAndGet(delta: number): Promise<number>;
}

/** Handle to a held lock. */
export interface GridLockHandle {
  /** Fencing token: higher than every token this lock handed out before (pass it to fenced writes). */
  readonly token: number;
  /** When the lease ends, epoch ms: the lock is free for others then, released or not. */
  readonly expiresAt: number;
  /** Releases the lock; later calls, and calls after the lease ended, do nothing. */
  release(): Promise<void>;
}

export interface GridHealth {
  readonly ready: boolean;
  readonly detail?: string;
  /** How the grid keeps data beyond its own memory, as far as the engine knows (shown in /health/ready). */
  readonly durability?: GridDurability;
}

/**
 * What survives a restart of the whole grid. `none`: nothing (memory only);
 * `write-through`: every acknowledged write is in the store first;
 * `write-behind`: writes reach the store in batches, so a crash of every
 * member at once loses up to `writeDelaySeconds` and a flush; `mixed`:
 * members disagree (a rolling change of configuration); `unknown`: not reported yet.
 */
export interface GridDurability {
  readonly mode: 'none' | 'write-through' | 'write-behind' | 'mixed' | 'unknown';
  readonly store?: string;
  readonly writeDelaySeconds?: number;
  /** Members that reported, and the split-brain quorum they enforce (0: none). */
  readonly members?: number;
  readonly quorum?: number;
  readonly detail?: string;
}

export interface Grid {
  /** Engine name as chosen by configuration (`embedded`, `hazelcast`). */
  readonly engine: string;

  /** Connects; resolves when the grid accepts reads and writes. */
  start(): Promise<void>;
  /** Flushes and disconnects. Idempotent. */
  close(): Promise<void>;
  health(): GridHealth;

  /**
   * Reads several records in one round trip where the engine allows, one
   * answer per key in order: the record, `undefined` for a record that never
   * existed, or a `LostRecord` when it existed but is gone (see LostRecord).
   * Loss is per key: the other records of the batch read normally.
   */
  readRecords(keys: readonly RecordKey[]): Promise<RecordRead[]>;
  /**
   * Applies writes, each version-checked on its own (no cross-record atomicity).
   * Resolves only when every write has an outcome, and every successful one is
   * durable as far as the engine goes (acknowledged by the owner and its
   * synchronous backups for Hazelcast). Outcomes are in the order of `writes`.
   * Rejects (E_UNAVAILABLE) only when no write could be tried or every one failed.
   */
  commit(writes: readonly RecordWrite[]): Promise<WriteOutcome[]>;
  /** The index of actors to wake per shard (outbox tells, reminders); see wake-index.ts. */
  wakeIndex(): WakeIndex;

  /**
   * Registers `listener` for the grid losing continuity with what callers
   * read before: it reconnected to a cluster that restarted (or may have), so
   * a record cached outside the grid may now be newer than what the grid
   * holds (restored from a write-behind store, or gone). Callers drop their
   * cached records and read again. The embedded grid never calls it.
   */
  onReset(listener: () => void): void;

  /**
   * A shared map for hot data. By default reads may go through a cache in
   * front of the grid (Hazelcast: a client near cache, invalidated within
   * about a second); `consistent` maps are read from the data's owners every
   * time, so a read sees every write acknowledged before it (journals,
   * anything a decision is made on).
   */
  map(name: string, options?: { readonly consistent?: boolean }): GridMap;
  counter(name: string): GridCounter;
  /**
   * Takes a named lock for at most `leaseMs`, waiting at most `waitMs` for it
   * (default: the lease); rejects with E_TIMEOUT when it cannot. A holder
   * that dies or hangs never blocks others past its lease.
   */
  lock(name: string, leaseMs: number, waitMs?: number): Promise<GridLockHandle>;
}
