import type { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import type { PeerAddress, PeerState } from '../transport.js';
import { backoffDelay } from './backoff.js';
import { ARRAY_HEADER_MAX, SendQueue, type WriteResult } from './send-queue.js';
import type { Link } from './link.js';
import { LinkError, NEUTRAL_CODES } from './link-errors.js';
import type { ResolvedTcpOptions } from './tcp-options.js';

/** A link that lived this long was healthy: losing it restarts the backoff from its minimum. */
const STABLE_MS = 1000;

/** What a peer needs from its transport. */
export interface PeerHost {
  readonly options: ResolvedTcpOptions;
  isClosed(): boolean;
  /** Opens a socket to the peer and starts the handshake as dialer. */
  dial(peer: Peer, address: PeerAddress): Link;
  /** Writes the peer's queue on the next microtask (with other peers' queues). */
  scheduleFlush(peer: Peer): void;
}

interface Dial {
  readonly link: Link;
  readonly resolve: () => void;
  readonly reject: (reason: LinkError) => void;
}

/**
 * Everything the transport keeps about one peer: its link, its queue, and
 * how we get (back) to it.
 *
 * Connection attempts run through an opossum breaker: a peer that keeps
 * refusing us is marked down (`send()` fails fast) and probed once every
 * `breakerResetMs` instead of being dialled on every backoff step. Between
 * attempts we wait an exponential, jittered backoff. Tie-break outcomes and
 * shutdowns never count as failures (`errorFilter`).
 */
export class Peer {
  address: PeerAddress | undefined;
  /** The open link, once adopted; at most one per peer. */
  link: Link | undefined;
  /** Our dial in progress, until its handshake ends one way or the other. */
  dial: Dial | undefined;
  flushQueued = false;
  private readonly queue = new SendQueue();
  private attempts = 0;
  private attempting = false;
  private retry: NodeJS.Timeout | undefined;
  private openedAt = 0;
  private breaker: CircuitBreaker<[], void> | undefined;
  private disposed = false;
  private warnedTooLarge = false;

  constructor(
    readonly id: string,
    private readonly host: PeerHost,
    private readonly log: ResolvedTcpOptions['log'],
  ) {}

  get state(): PeerState {
    if (this.link !== undefined) return 'up';
    if (this.breaker?.opened === true) return 'down';
    if (this.dial !== undefined || this.attempting || this.retry !== undefined) return 'connecting';
    return 'down';
  }

  /** Breaker open: refuse before spending an encode. */
  get refusing(): boolean {
    return this.link === undefined && this.breaker?.opened === true;
  }

  /** Queues one encoded message, `src[start, end)` (copied before this returns); false when it cannot be sent now (see Transport.send). */
  enqueue(src: Uint8Array, start: number, end: number): boolean {
    const o = this.host.options;
    const limit = (this.link?.sendLimit ?? o.maxFrame) - ARRAY_HEADER_MAX;
    const length = end - start;
    if (length > limit) {
      if (!this.warnedTooLarge) {
        this.warnedTooLarge = true;
        this.log('warn', 'link.message_too_large', { peer: this.id, bytes: length, limit });
      }
      return false;
    }
    if (this.link !== undefined) {
      if (this.queue.bytes + this.link.backlog + length > o.maxQueueBytes) return false;
    } else if (this.queue.count >= o.maxQueue || this.queue.bytes + length > o.maxQueueBytes) {
      return false;
    }
    this.queue.push(src, start, end);
    if (this.link !== undefined) this.host.scheduleFlush(this);
    else this.connect();
    return true;
  }

  /** Writes everything queued as one batch (split only at the peer's frame limit). */
  flush(): { messages: number; result: WriteResult } | undefined {
    this.flushQueued = false;
    const link = this.link;
    if (link === undefined || this.queue.count === 0) return undefined;
    const messages = this.queue.count;
    const result = link.write(this.queue);
    // Queued before the handshake told us the peer's limit; only a peer configured smaller than us gets here.
    if (result.dropped > 0) this.log('warn', 'link.message_too_large', { peer: this.id, dropped: result.dropped, limit: link.sendLimit - ARRAY_HEADER_MAX });
    if (result.frames === 0) return undefined;
    return { messages: messages - result.dropped, result };
  }

  /** Starts an attempt unless one is running, a backoff is pending, or the breaker is open. */
  connect(): void {
    if (this.disposed || this.host.isClosed() || this.link !== undefined || this.attempting || this.retry !== undefined) return;
    const address = this.address;
    if (address === undefined) return;
    const breaker = (this.breaker ??= this.createBreaker());
    if (breaker.opened) return;
    this.attempting = true;
    breaker.fire().then(
      () => {
        this.attempting = false;
      },
      (err: unknown) => {
        this.attempting = false;
        this.attemptFailed(err);
      },
    );
  }

  /** Makes `link` this peer's link: stops dialling, closes the breaker, sends what waited. */
  adopt(link: Link): void {
    this.link = link;
    this.openedAt = Date.now();
    clearTimeout(this.retry);
    this.retry = undefined;
    if (this.breaker?.opened === true || this.breaker?.halfOpen === true) this.breaker.close();
    if (this.dial?.link === link) {
      const d = this.dial;
      this.dial = undefined;
      d.resolve();
    }
    if (this.queue.count > 0) this.host.scheduleFlush(this);
  }

  /** Our dial ended before opening (refused, failed, lost the tie-break). */
  dialEnded(link: Link, reason: LinkError): void {
    if (this.dial?.link !== link) return;
    const d = this.dial;
    this.dial = undefined;
    d.reject(reason);
  }

  /** The adopted link went down: reconnect if we know where the peer lives. */
  lost(): void {
    this.link = undefined;
    if (Date.now() - this.openedAt >= STABLE_MS) this.attempts = 0;
    this.scheduleRetry();
  }

  /** Aborts our dial in favour of the peer's (tie-break). */
  abandonDial(): void {
    this.dial?.link.close(new LinkError('LINK_SUPERSEDED', "the peer's dial won the tie-break"));
  }

  /** forget()/close(): no more attempts, queue dropped, breaker shut; `graceful` ends the link after what was written. */
  dispose(graceful = false): void {
    this.disposed = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.queue.clear();
    this.breaker?.shutdown();
    const shutdown = new LinkError('LINK_SHUTDOWN', 'link closed locally');
    const dial = this.dial;
    this.dial = undefined;
    dial?.link.close(shutdown);
    dial?.reject(shutdown);
    if (graceful) this.link?.end(shutdown);
    else this.link?.close(shutdown);
  }

  private scheduleRetry(): void {
    if (this.disposed || this.host.isClosed() || this.address === undefined || this.retry !== undefined) return;
    const o = this.host.options;
    const delay = backoffDelay(this.attempts++, o.backoffMinMs, o.backoffMaxMs);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect();
    }, delay);
  }

  private attemptFailed(err: unknown): void {
    if (this.disposed || this.host.isClosed() || this.link !== undefined) return;
    const code = (err as { code?: unknown })?.code;
    // Open breaker: its halfOpen event brings the next attempt.
    if (code === 'EOPENBREAKER' || this.breaker?.opened === true) return;
    if (!NEUTRAL_CODES.has(code as never)) {
      // Nobody listening is routine while a peer restarts; a peer that answers but refuses us is a misconfiguration.
      const routine = code === 'LINK_CONNECT_FAILED' || code === 'LINK_HANDSHAKE_TIMEOUT';
      this.log(routine ? 'debug' : 'warn', 'link.dial_failed', { peer: this.id, reason: code, message: (err as Error)?.message });
    }
    this.scheduleRetry();
  }

  private createBreaker(): CircuitBreaker<[], void> {
    const o = this.host.options;
    const breaker = new CircuitBreaker<[], void>(
      () =>
        new Promise<void>((resolve, reject) => {
          const link = this.host.dial(this, this.address!);
          this.dial = { link, resolve, reject };
        }),
      {
        name: `link:${this.id}`,
        timeout: false, // the handshake deadline bounds every attempt
        errorThresholdPercentage: o.breakerErrorPercent,
        volumeThreshold: o.breakerVolume,
        resetTimeout: o.breakerResetMs,
        rollingCountTimeout: 10_000,
        rollingPercentilesEnabled: false,
        enableSnapshots: false,
        errorFilter: (err: unknown) => NEUTRAL_CODES.has((err as { code?: never })?.code as never),
      },
    );
    const events = breaker as unknown as EventEmitter;
    events.on('open', () => {
      // A failure counted after an inbound link was adopted: the link proves the peer is fine.
      if (this.link !== undefined) {
        breaker.close();
        return;
      }
      const dropped = this.queue.count;
      this.queue.clear();
      this.log('warn', 'link.breaker_open', { peer: this.id, dropped, probeInMs: o.breakerResetMs });
    });
    events.on('halfOpen', () => this.connect());
    events.on('close', () => this.log('info', 'link.breaker_closed', { peer: this.id }));
    return breaker;
  }
}
