/**
 * Takers of named locks in this process, one holder per name at a time, in
 * arrival order, each holding at most its lease. Both engines queue here
 * first: the embedded grid has nothing else, and hazelcast-client owns every
 * IMap lock with one thread id (to the member, all callers of this process
 * are one reentrant owner), so only one local taker at a time may ask it.
 *
 * The lease is what makes a dead or stuck holder harmless: when it ends, the
 * slot passes to the next taker whether or not its holder released it, and a
 * late release is a no-op.
 */
import { Errors } from '../protocol/errors.js';

export interface LocalSlot {
  /** When the lease ends, epoch ms. */
  readonly expiresAt: number;
  /** Whether the lease ended before the holder released. */
  readonly expired: boolean;
  /** Passes the slot on; idempotent, and a no-op once the lease ended. Returns whether this call released it. */
  release(): boolean;
}

interface Name {
  held: boolean;
  readonly waiters: (() => void)[];
}

export class LockQueue {
  private readonly names = new Map<string, Name>();

  /** Waits at most `waitMs` for the slot, then holds it for at most `leaseMs`; rejects with E_TIMEOUT. */
  take(name: string, waitMs: number, leaseMs: number): Promise<LocalSlot> {
    if (!Number.isFinite(waitMs) || waitMs < 0) return Promise.reject(new TypeError(`lock wait must be a non-negative number of ms, got ${String(waitMs)}`));
    if (!Number.isFinite(leaseMs) || leaseMs <= 0) return Promise.reject(new TypeError(`lock lease must be a positive number of ms, got ${String(leaseMs)}`));
    let n = this.names.get(name);
    if (n === undefined) this.names.set(name, (n = { held: false, waiters: [] }));
    const entry = n;
    if (!entry.held) {
      entry.held = true;
      return Promise.resolve(this.slot(name, entry, leaseMs));
    }
    return new Promise<LocalSlot>((resolve, reject) => {
      const grant = (): void => {
        clearTimeout(timer);
        resolve(this.slot(name, entry, leaseMs));
      };
      const timer = setTimeout(() => {
        const i = entry.waiters.indexOf(grant);
        if (i >= 0) entry.waiters.splice(i, 1);
        reject(Errors.timeout(waitMs, `lock '${name}'`));
      }, waitMs);
      entry.waiters.push(grant);
    });
  }

  private slot(name: string, entry: Name, leaseMs: number): LocalSlot {
    let done = false;
    let expired = false;
    const pass = (): void => {
      const next = entry.waiters.shift();
      if (next !== undefined) next();
      else {
        entry.held = false;
        if (this.names.get(name) === entry) this.names.delete(name);
      }
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      expired = true;
      pass();
    }, leaseMs);
    timer.unref();
    return {
      expiresAt: Date.now() + leaseMs,
      get expired() {
        return expired;
      },
      release: () => {
        if (done) return false;
        done = true;
        clearTimeout(timer);
        pass();
        return true;
      },
    };
  }
}
