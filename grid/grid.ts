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

/** One version-checked write. `expectedVersion` 0 means "create; fail if it exists". */
export interface RecordWrite extends RecordKey {
  readonly expectedVersion: number;
  readonly data: Uint8Array;
}

/**
 * Outcome of one write in a commit batch. On conflict, `current` is what the
 * grid holds now (absent when the record was deleted), so the writer can reload
 * without a second round trip where the engine can provide it.
 */
export type WriteOutcome =
  | { readonly ok: true; readonly version: number }
  | { readonly ok: false; readonly conflict: true; readonly current?: VersionedRecord };

/** A shared map for hot data actors read and write outside their own state. */
export interface GridMap {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Every key, from the owners (not a near cache). Meant for small maps such as journals. */
  keys(): Promise<string[]>;
}

/** A cluster-wide counter. */
export interface GridCounter {
  get(): Promise<number>;
  addAndGet(delta: number): Promise<number>;
}

/** Handle to a held lock; release exactly once. */
export interface GridLockHandle {
  release(): Promise<void>;
}

export interface GridHealth {
  readonly ready: boolean;
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

  /** Reads several records in one round trip where the engine allows; `undefined` for absent ones. */
  readRecords(keys: readonly RecordKey[]): Promise<(VersionedRecord | undefined)[]>;
  /**
   * Applies writes, each version-checked on its own (no cross-record atomicity).
   * Resolves only when every successful write is durable as far as the engine
   * goes (acknowledged by the owner and its synchronous backups for Hazelcast).
   * Outcomes are in the order of `writes`.
   */
  commit(writes: readonly RecordWrite[]): Promise<WriteOutcome[]>;

  map(name: string): GridMap;
  counter(name: string): GridCounter;
  /** Takes a named lock, waiting at most `timeoutMs`; rejects with E_TIMEOUT when it cannot. */
  lock(name: string, timeoutMs: number): Promise<GridLockHandle>;
}
