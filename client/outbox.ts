/**
 * Outgoing messages, batched: everything queued in one tick leaves as one
 * frame (an array), flushed on a microtask, or at once when maxBatch messages
 * are waiting. A frame is also cut at maxFrameBytes. While the socket's buffer
 * is above the high-water mark, or there is no socket, messages wait here.
 */
import type { TellMessage } from '../protocol/index.js';
import type { Codec } from './codec.js';
import { ClientErrors } from './errors.js';
import { Phase, PendingCall } from './pending.js';
import type { Socket } from './transport.js';
import type { TroupeError } from '../protocol/index.js';

export type Outgoing = PendingCall | TellMessage;

export interface OutboxLimits {
  readonly maxBatch: number;
  readonly maxFrameBytes: number;
  readonly highWaterBytes: number;
}

/** How often to look again at a socket whose buffer is full: WebSocket has no 'drain' event. */
const DRAIN_POLL_MS = 2;

export class Outbox {
  /** Set while a socket is open; null while connecting or closed. */
  socket: Socket | null = null;
  private queue: Outgoing[] = [];
  /** Index of the first unsent item; the array is reset rather than shifted. */
  private head = 0;
  private scheduled = false;
  private drainTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly codec: Codec,
    private readonly limits: OutboxLimits,
    /** A call that can never be sent (cannot be encoded, too large): the owner settles it. */
    private readonly unsendable: (call: PendingCall, error: TroupeError) => void,
    /** A tell that can never be sent: reported, since nobody awaits it. */
    private readonly dropped: (error: TroupeError) => void,
  ) {}

  /** Items waiting to be sent (including calls settled while they waited). */
  get length(): number {
    return this.queue.length - this.head;
  }

  push(item: Outgoing): void {
    this.queue.push(item);
    if (this.queue.length - this.head >= this.limits.maxBatch && this.socket !== null) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /** Puts calls to re-send ahead of everything else (after a reconnect, in their original order). */
  unshift(items: readonly Outgoing[]): void {
    if (items.length === 0) return;
    this.queue = items.concat(this.queue.slice(this.head));
    this.head = 0;
  }

  /** Empties the queue, returning what was in it. */
  clear(): Outgoing[] {
    const rest = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    return rest;
  }

  readonly flush = (): void => {
    this.scheduled = false;
    const socket = this.socket;
    if (socket === null) return;
    const { maxBatch, highWaterBytes } = this.limits;
    while (this.head < this.queue.length) {
      if (socket.bufferedAmount > highWaterBytes) {
        this.drainTimer ??= setTimeout(() => {
          this.drainTimer = null;
          this.flush();
        }, DRAIN_POLL_MS);
        break;
      }
      const items: Outgoing[] = [];
      const msgs: unknown[] = [];
      while (this.head < this.queue.length && msgs.length < maxBatch) {
        const item = this.queue[this.head++]!;
        if (item instanceof PendingCall) {
          // Settled while waiting (timed out, closed): nothing to send.
          if (item.phase !== Phase.Queued) continue;
          msgs.push(item.msg);
        } else {
          msgs.push(item);
        }
        items.push(item);
      }
      if (msgs.length > 0) this.send(socket, items, msgs);
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  };

  /** Encodes `msgs` as one frame (one message alone, several as an array) and writes it. */
  private send(socket: Socket, items: Outgoing[], msgs: unknown[]): void {
    let frame: Uint8Array;
    try {
      frame = this.codec.encode(msgs.length === 1 ? msgs[0] : msgs);
    } catch (err) {
      return this.sendIsolating(socket, items, msgs, err);
    }
    if (frame.length > this.limits.maxFrameBytes) {
      if (msgs.length === 1) return this.refuse(items[0]!, ClientErrors.tooLarge(frame.length, this.limits.maxFrameBytes));
      const half = msgs.length >> 1;
      this.send(socket, items.slice(0, half), msgs.slice(0, half));
      this.send(socket, items.slice(half), msgs.slice(half));
      return;
    }
    try {
      socket.send(frame);
    } catch {
      // The socket is closing; its close event follows and settles these calls like any in flight.
    }
    for (const item of items) {
      if (!(item instanceof PendingCall)) continue;
      item.phase = Phase.Sent;
      // Only a call that may be re-sent needs its message (and its arguments) kept alive.
      if (!item.resendable) item.msg = null;
    }
  }

  /** A batch failed to encode: find the messages at fault, refuse them, send the rest. */
  private sendIsolating(socket: Socket, items: Outgoing[], msgs: unknown[], err: unknown): void {
    if (msgs.length === 1) return this.refuse(items[0]!, ClientErrors.unencodable(err));
    const goodItems: Outgoing[] = [];
    const goodMsgs: unknown[] = [];
    for (let i = 0; i < msgs.length; i++) {
      try {
        this.codec.encode(msgs[i]);
        goodItems.push(items[i]!);
        goodMsgs.push(msgs[i]);
      } catch (e) {
        this.refuse(items[i]!, ClientErrors.unencodable(e));
      }
    }
    if (goodMsgs.length > 0) this.send(socket, goodItems, goodMsgs);
  }

  private refuse(item: Outgoing, error: TroupeError): void {
    if (item instanceof PendingCall) this.unsendable(item, error);
    else this.dropped(error);
  }
}
