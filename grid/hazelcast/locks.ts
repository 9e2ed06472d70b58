import { ClientNotActiveError, type IMap, IllegalMonitorStateError } from 'hazelcast-client';
import { Errors } from '../../protocol/errors.js';
import type { GridLockHandle } from '../grid.js';

/**
 * Named locks as IMap key locks on `troupe.locks`.
 *
 * FencedLock (CP subsystem) is Enterprise-only in Hazelcast 5.5+ and refused
 * by hazelcast-client 5.6; IMap.tryLock works on the open-source member, has a
 * synchronous backup, and the member frees a lock whose client disconnects
 * for good.
 *
 * One catch: hazelcast-client owns every IMap lock with the same thread id,
 * so to the member all callers in this process are one owner and the lock is
 * reentrant among them. A local FIFO queue per name therefore lets only one
 * local caller at a time ask the member; the timeout covers both waits.
 */
const UNLOCK_RETRIES = 120;
const UNLOCK_RETRY_MS = 1_000;

export class Locks {
  private readonly holders = new Map<string, (() => void)[]>();

  constructor(private readonly map: () => IMap<string, Buffer> | Promise<IMap<string, Buffer>>) {}

  async lock(name: string, timeoutMs: number): Promise<GridLockHandle> {
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new TypeError(`lock timeout must be a non-negative number of ms, got ${String(timeoutMs)}`);
    const deadline = Date.now() + timeoutMs;
    await this.takeLocal(name, timeoutMs);
    let map: IMap<string, Buffer>;
    try {
      map = await this.map();
      const acquired = await map.tryLock(name, Math.max(0, deadline - Date.now()));
      if (!acquired) throw Errors.timeout(timeoutMs, `lock '${name}'`);
    } catch (err) {
      this.releaseLocal(name);
      throw err;
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          await map.unlock(name);
        } catch (err) {
          this.settleLater(map, name);
          throw err;
        }
        this.releaseLocal(name);
      },
    };
  }

  /**
   * An unlock that failed (grid unreachable) may or may not have reached the
   * member. Passing the local queue on now could be wrong both ways: the next
   * local taker would re-enter our still-held lock (one owner, see above), and
   * a later unlock would free its fresh lock. So the queue stays closed until
   * the outcome is known: an unlock that succeeds, the member saying we no
   * longer own it (it dropped this client's session), or the client itself
   * shut down (the member will drop the session). Bounded: after ~2 minutes
   * of failures the queue is opened anyway.
   */
  private settleLater(map: IMap<string, Buffer>, name: string): void {
    const retry = async (attempt: number): Promise<void> => {
      try {
        await map.unlock(name);
      } catch (err) {
        const settled = err instanceof IllegalMonitorStateError || err instanceof ClientNotActiveError || attempt >= UNLOCK_RETRIES;
        if (!settled) {
          setTimeout(() => void retry(attempt + 1), UNLOCK_RETRY_MS).unref();
          return;
        }
      }
      this.releaseLocal(name);
    };
    setTimeout(() => void retry(1), UNLOCK_RETRY_MS).unref();
  }

  private takeLocal(name: string, timeoutMs: number): Promise<void> {
    const waiters = this.holders.get(name);
    if (waiters === undefined) {
      this.holders.set(name, []);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = waiters.indexOf(grant);
        if (i >= 0) waiters.splice(i, 1);
        reject(Errors.timeout(timeoutMs, `lock '${name}'`));
      }, timeoutMs);
      waiters.push(grant);
    });
  }

  private releaseLocal(name: string): void {
    const next = this.holders.get(name)?.shift();
    if (next !== undefined) next();
    else this.holders.delete(name);
  }
}
