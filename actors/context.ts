/**
 * What an actor needs from the runtime during a turn. The runtime implements
 * it; `actors/` only describes it, so the programming model depends on nothing
 * else of Troupe's.
 */

export interface CallOptions {
  /** Milliseconds before the call fails with E_TIMEOUT. */
  readonly timeout?: number;
  /** Idempotency key: the callee applies a call with the same key at most once. */
  readonly idem?: string;
}

/** A shared map in the grid. Reads through a near cache may be slightly stale; writes go to the grid. */
export interface ActorGridMap {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<boolean>;
  keys(): Promise<string[]>;
}

export interface ActorGridCounter {
  get(): Promise<number>;
  addAndGet(delta: number): Promise<number>;
}

export interface ActorGrid {
  map(name: string): ActorGridMap;
  counter(name: string): ActorGridCounter;
  /** Runs `fn` while holding a cluster-wide lock; waits at most `timeoutMs` for it. */
  withLock<T>(name: string, timeoutMs: number, fn: () => Promise<T> | T): Promise<T>;
}

export interface ActorContext {
  readonly key: string;
  readonly caller: string | undefined;
  readonly grid: ActorGrid;
  call(type: string, key: string, method: string, args: unknown[], options?: CallOptions): Promise<unknown>;
  tell(type: string, key: string, method: string, args: unknown[]): void;
  publish(topic: string, data: unknown): void;
}
