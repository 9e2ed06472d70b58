import { ClientNotActiveError, type IMap, IllegalMonitorStateError } from 'hazelcast-client';
import { Errors } from '../../protocol/errors.js';
import type { GridLockHandle } from '../grid.js';
import { LockQueue } from '../lock-queue.js';

/**
 * Named locks as IMap key locks on `troupe.locks`, each with a lease and a
 * fencing token.
 *
 * FencedLock (CP subsystem) is Enterprise-only in Hazelcast 5.5+ and refused
 * by hazelcast-client 5.6; IMap.tryLock works on the open-source member, has a
 * synchronous backup, takes a lease (the member frees the key when it ends,
 * so a holder that hangs or dies never blocks others past it), and the member
 * also frees the locks of a client that disconnects for good.
 *
 * hazelcast-client owns every IMap lock with the same thread id, so to the
 * member all callers in this process are one owner and the lock is
 * reentrant among them: a local queue (lock-queue.ts), with the same lease,
 * lets one local caller at a time ask the member.
 *
 * The token comes from a counter per lock name (Counters: compare-and-set on
 * a backed-up entry) taken after the lock: every holder's token is higher
 * than every earlier holder's.
 */
const UNLOCK_RETRIES = 120;
const UNLOCK_RETRY_MS = 1_000;

export class Locks {
  private readonly queue = new LockQueue();

  constructor(
    private readonly map: () => IMap<string, Buffer> | Promise<IMap<string, Buffer>>,
    private readonly nextToken: (name: string) => Promise<number>,
  ) {}

  async lock(name: string, leaseMs: number, waitMs: number): Promise<GridLockHandle> {
    const deadline = Date.now() + waitMs;
    const slot = await this.queue.take(name, waitMs, leaseMs);
    let map: IMap<string, Buffer>;
    let token: number;
    try {
      map = await this.map();
      const acquired = await map.tryLock(name, Math.max(0, deadline - Date.now()), Math.max(1, slot.expiresAt - Date.now()));
      if (!acquired) throw Errors.timeout(waitMs, `lock '${name}'`);
      token = await this.nextToken(name);
    } catch (err) {
      slot.release();
      throw err;
    }
    let released = false;
    return {
      token,
      expiresAt: slot.expiresAt,
      release: async () => {
        if (released) return;
        released = true;
        // Past the lease the member has freed the key already (and may have given it to another node).
        if (slot.expired) return;
        try {
          await map.unlock(name);
        } catch (err) {
          if (err instanceof IllegalMonitorStateError) {
            slot.release();
            return;
          }
          this.settleLater(map, name, () => slot.release());
          throw err;
        }
        slot.release();
      },
    };
  }

  /**
   * An unlock that failed (grid unreachable) may or may not have reached the
   * member. Passing the local slot on now could be wrong both ways: the next
   * local taker would re-enter our still-held lock (one owner, see above), and
   * a later unlock would free its fresh lock. So the slot stays taken until
   * the outcome is known: an unlock that succeeds, the member saying we no
   * longer own it (its lease ended, or it dropped this client's session), or
   * the client itself shut down. The lease bounds the wait in any case.
   */
  private settleLater(map: IMap<string, Buffer>, name: string, done: () => void): void {
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
      done();
    };
    setTimeout(() => void retry(1), UNLOCK_RETRY_MS).unref();
  }
}
