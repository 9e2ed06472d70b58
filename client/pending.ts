/**
 * One request awaiting its reply: a call, or a sub/unsub. A class (not object
 * literals) so every entry has the same shape, and it embeds its deadline-list
 * links so tracking a deadline allocates nothing.
 */
import type { TroupeError } from '../protocol/index.js';
import type { DeadlineList, Timed } from './deadlines.js';

/** The message as it goes on the wire; `id` changes when a call is retried. */
export interface OutgoingRequest {
  op: 'call' | 'sub' | 'unsub';
  id: number;
  actor?: string;
  key?: string;
  method?: string;
  args?: readonly unknown[];
  idem?: string;
  timeout?: number;
  topic?: string;
  /** The app's active span (W3C trace context), when it has one. */
  traceparent?: string;
}

/** Queued: waiting in the outbox. Sent: written to the socket. Waiting: backing off before a retry. Done: settled. */
export const Phase = { Queued: 0, Sent: 1, Waiting: 2, Done: 3 } as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export class PendingCall implements Timed {
  phase: Phase = Phase.Queued as Phase;
  /** Retries made so far (re-sends after a reconnect do not count). */
  attempts = 0;
  deadline = 0;
  prev: Timed | null = null;
  next: Timed | null = null;
  list: DeadlineList | null = null;
  /** The backoff timer while the call waits to be retried. */
  timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    public id: number,
    /** Kept only while the call may still need to be re-sent; dropped once sent if it cannot be. */
    public msg: OutgoingRequest | null,
    /** True when sending twice is harmless: the call has an idem key, or it is a sub/unsub. */
    readonly resendable: boolean,
    readonly timeoutMs: number,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: TroupeError) => void,
  ) {}
}
