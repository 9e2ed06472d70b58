/**
 * One live actor on this node: its mailbox, the record it last read or
 * wrote, and what the node knows about its outbox. Owned by the turn
 * scheduler; an actor has at most one group of turns out at a time.
 */
import type { VersionedRecord } from '../../grid/index.js';
import { shardOf } from '../placement/shards.js';
import type { Envelope } from '../envelope.js';
import { senderId } from '../idem-keys.js';
import { WAKE_UNKNOWN } from '../pool/protocol.js';

/** A mailbox emptied at this capacity or above gives its slots back; below it keeps them for the next message. */
const KEEP_SLOTS = 64;

export class Activation {
  /**
   * The mailbox: messages in mail[head, tail). Taken slots are cleared, not
   * cut off: an empty array's backing store would be freed and a new one
   * allocated by the next push, an allocation per call for the usual actor
   * that gets one message per turn.
   */
  private mail: (Envelope | undefined)[] = [];
  private head = 0;
  private tail = 0;
  /** The group out now, if any ([] while the record loads). */
  running: Envelope[] | null = null;
  loaded = false;
  record: VersionedRecord | undefined = undefined;
  /** When `record` was last known to be the grid's current one (read, or written by this node), epoch ms. */
  validatedAt = 0;
  ready = false;
  conflicts = 0;
  lastActive = 0;
  /** The record was (re)read from the grid: the next group reports the whole outbox, so nothing a dead node left behind is missed. */
  fresh = true;
  /** Outbox sequence numbers their targets acknowledged, to be removed by the next write. */
  acked: number[] = [];
  /** Acknowledged numbers handed to the group out now; back to `acked` if it does not commit. */
  ackedOut: readonly number[] | null = null;
  /** Outbox sequence numbers being delivered now. */
  readonly delivering = new Set<number>();
  /** Lowest sequence number in the committed outbox (-1: not known yet); targets may forget this sender's tells below it. */
  outboxLow = -1;
  /** Tells in the committed outbox (-1: not known yet). */
  outboxPending = -1;
  /** Earliest reminder in the committed record, NO_WAKE for none, WAKE_UNKNOWN before the first group. */
  remindAt = WAKE_UNKNOWN;
  /** A wake-up turn is queued. */
  wakeQueued = false;
  readonly shard: number;
  private sender: string | undefined;

  constructor(readonly type: string, readonly key: string) {
    this.shard = shardOf(type, key);
  }

  /** The sender part of this actor's tell keys (a hash, computed once). */
  get senderId(): string {
    return (this.sender ??= senderId(this.type, this.key));
  }

  get waiting(): number {
    return this.tail - this.head;
  }

  /** Adds a message at the back of the mailbox. */
  push(env: Envelope): void {
    this.mail[this.tail++] = env;
  }

  /** Whether the node still has work for this actor that no message will bring. */
  get hasOutboxWork(): boolean {
    return this.delivering.size > 0 || this.acked.length > 0 || this.outboxPending > 0;
  }

  /** Takes up to `max` messages from the front, skipping those already answered (by their deadline). */
  take(max: number): Envelope[] {
    const mail = this.mail;
    // Sized once: most groups are one message, and a growing [] allocates a 17-slot store for it.
    const out: Envelope[] = new Array(Math.min(max, this.tail - this.head));
    let n = 0;
    while (this.head < this.tail && n < out.length) {
      const env = mail[this.head]!;
      mail[this.head++] = undefined;
      if (!env.done) out[n++] = env;
    }
    if (n < out.length) out.length = n;
    if (this.head === this.tail) {
      this.head = this.tail = 0;
      if (mail.length >= KEEP_SLOTS) mail.length = 0;
    } else if (this.head > 1024 && this.head * 2 > this.tail) {
      mail.copyWithin(0, this.head, this.tail);
      this.tail -= this.head;
      mail.fill(undefined, this.tail);
      this.head = 0;
    }
    return out;
  }

  /** Puts a group back at the front, in its original order (after a conflict); returns how many were still live. */
  putBack(envs: readonly Envelope[]): number {
    const live: (Envelope | undefined)[] = envs.filter((e) => !e.done);
    const n = live.length;
    for (let i = this.head; i < this.tail; i++) live.push(this.mail[i]);
    this.mail = live;
    this.head = 0;
    this.tail = live.length;
    return n;
  }

  /** The record must be read again before the next turn (ownership moved, a write's outcome is unknown). */
  forgetRecord(): void {
    this.loaded = false;
    this.fresh = true;
  }
}
