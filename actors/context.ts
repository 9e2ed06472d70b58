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
  /**
   * Writes a value. With `fence` (the token `withLock` hands its function),
   * the write is refused with E_FENCED if the entry was written under a newer
   * lock: a holder whose lease ran out cannot overwrite what the next one wrote.
   */
  set(key: string, value: unknown, options?: { readonly fence?: number }): Promise<void>;
  delete(key: string): Promise<boolean>;
  keys(): Promise<string[]>;
}

export interface ActorGridCounter {
  get(): Promise<number>;
  addAndGet(delta: number): Promise<number>;
}

export interface ActorGrid {
  /**
   * A shared map. By default reads may come from a cache in front of the
   * grid (about a second stale at most on another node); a `consistent` map
   * is read from the grid every time, so a read sees every write
   * acknowledged before it: use it for journals and decisions.
   */
  map(name: string, options?: { readonly consistent?: boolean }): ActorGridMap;
  counter(name: string): ActorGridCounter;
  /**
   * Runs `fn` while holding a cluster-wide lock for at most `leaseMs` (a
   * holder that hangs or dies never blocks others past it), waiting at most
   * `waitMs` (default: the lease) for it, else E_TIMEOUT. `fn` gets the
   * lock's fencing token, higher than every earlier holder's: pass it to
   * writes that must not land once the lease has run out.
   */
  withLock<T>(name: string, leaseMs: number, fn: (token: number) => Promise<T> | T, options?: { readonly waitMs?: number }): Promise<T>;
}

/**
 * When a reminder fires: `at` (epoch ms) or `after` (ms from now) for the
 * first time, and every `every` ms after that (it repeats until cancelled).
 * With only `every`, the first firing is `every` ms from now.
 */
export interface ReminderSchedule {
  readonly at?: number;
  readonly after?: number;
  readonly every?: number;
}

/** A pending reminder as `this.reminders()` lists it. */
export interface ReminderInfo {
  readonly name: string;
  /** When it fires next, epoch ms. */
  readonly due: number;
  /** Its period in ms; absent for a one-shot reminder. */
  readonly every?: number;
  readonly method: string;
  readonly args: readonly unknown[];
}

export interface ActorContext {
  readonly key: string;
  readonly caller: string | undefined;
  readonly grid: ActorGrid;
  call(type: string, key: string, method: string, args: unknown[], options?: CallOptions): Promise<unknown>;
  tell(type: string, key: string, method: string, args: unknown[]): void;
  publish(topic: string, data: unknown): void;
  remind(name: string, schedule: ReminderSchedule, method: string, args: unknown[]): void;
  cancelReminder(name: string): boolean;
  reminders(): ReminderInfo[];
}
