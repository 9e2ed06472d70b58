/**
 * Turns without a message. A wake-up turn (method WAKE) fires an actor's due
 * reminders and removes acknowledged tells from its outbox; on a freshly
 * loaded actor it also reports the tells still to deliver. This module makes
 * those turns: for the node's clock (due reminders, wake index entries), and
 * for acknowledged tells whose sender has no turn coming to carry their
 * removal (within ACK_FLUSH_MS). It also removes the wake index entry of an
 * actor that went idle needing nothing.
 */
import { isLost, type Grid } from '../../grid/index.js';
import { Envelope, type ReplySink } from '../envelope.js';
import type { Logger } from '../log.js';
import type { WakeReport } from '../pool/group-run.js';
import { WAKE } from '../pool/protocol.js';
import type { Wakeups } from '../reminders/wakeups.js';
import type { Activation } from './activation.js';

/**
 * How long acknowledged tells may wait for the sender's next turn to remove
 * them from its outbox before a turn of their own does. A busy sender's next
 * turn comes sooner and carries the removal for free.
 */
const ACK_FLUSH_MS = 100;
/** Wake-up turns that failed (grid down) are tried again after this long. */
export const WAKE_RETRY_MS = 1_000;

const noSettle = (): void => {};

export interface WakeTurnsHost {
  readonly grid: Grid;
  readonly wakeups: Wakeups;
  readonly log: Logger;
  readonly callTimeoutMs: number;
  isLocal(type: string, key: string): boolean;
  /** Whether `act` is still the live, served activation of a local actor. */
  isCurrent(act: Activation): boolean;
  /** Queues an envelope of the runtime's own in the actor's mailbox. */
  enqueue(act: Activation, env: Envelope): void;
}

export class WakeTurns {
  private readonly ackWaiting = new Set<Activation>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly h: WakeTurnsHost) {
    this.timer = setInterval(() => this.flushAcks(), ACK_FLUSH_MS);
    this.timer.unref();
  }

  /** Queues a wake-up turn for the actor, unless one is queued already. */
  wake(act: Activation): void {
    if (act.wakeQueued) return;
    act.wakeQueued = true;
    const { type, key } = act;
    const sink: ReplySink = {
      deliver: (_id, result) => {
        act.wakeQueued = false;
        if (result[0] === 0) {
          this.h.log.log('debug', 'wake_failed', { type, key, code: result[1].code, message: result[1].message });
          // The clock gave up its entry when it fired: put it back while the actor is this node's
          // (fenced or not: a fenced node's retry waits in the clock until it serves again).
          if (this.h.isLocal(type, key)) this.h.wakeups.retry(type, key, act.shard, WAKE_RETRY_MS);
          return;
        }
        const report = result[1] as WakeReport | undefined;
        for (const [name, message] of report?.failed ?? []) this.h.log.log('warn', 'reminder_failed', { type, key, reminder: name, message });
      },
    };
    this.h.enqueue(act, new Envelope(type, key, WAKE, [], null, null, Date.now() + this.h.callTimeoutMs, sink, 0, performance.now(), noSettle));
  }

  /** A target acknowledged one of the actor's tells: its removal rides on the next write. */
  acknowledged(act: Activation, seq: number): void {
    act.acked.push(seq);
    this.ackWaiting.add(act);
  }

  /** Acknowledged tells of actors with no turn coming get a turn of their own to leave the outbox. */
  private flushAcks(): void {
    for (const act of this.ackWaiting) {
      if (act.acked.length === 0 || !this.h.isCurrent(act)) {
        this.ackWaiting.delete(act);
        continue;
      }
      if (act.running !== null || act.waiting > 0) continue; // that turn carries them
      this.ackWaiting.delete(act);
      this.wake(act);
    }
  }

  /**
   * An idle actor that needs nothing from the wake index any more has its
   * entry removed, once the record shows it is still the version that needs
   * nothing (another node may have written it since).
   */
  async releaseIndex(act: Activation): Promise<void> {
    try {
      const [stored] = await this.h.grid.readRecords([{ type: act.type, key: act.key }]);
      if (isLost(stored) || stored?.version !== act.record?.version || !this.h.isLocal(act.type, act.key)) return;
      await this.h.wakeups.release(act, act.shard);
    } catch (err) {
      // The entry stays: it costs one wake-up turn that finds nothing to do.
      this.h.log.log('debug', 'wake_release_failed', { type: act.type, key: act.key, error: (err as Error).message });
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
