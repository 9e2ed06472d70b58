/**
 * Calls sent to the node that owns their actor, until each is answered
 * exactly once: by the owner, by its deadline, or by this node when the
 * actor's shard comes back here.
 *
 * Every forwarded call carries an idempotency key (the caller's, or one made
 * up here), so a call whose owner died before answering can be sent again to
 * the next owner: if the first attempt committed, the grid record holds its
 * key and the new owner answers with the stored result instead of applying it
 * twice. Calls whose owner's link failed wait in limbo until placement names
 * a new owner or the link returns.
 */
import { RETRYABLE_CODES } from '../../protocol/errors.js';
import type { DeadlineWheel, Expirable } from '../deadline-wheel.js';
import type { ReplySink } from '../envelope.js';
import { autoIdemPrefix } from '../idem-keys.js';
import type { TurnResult } from '../pool/protocol.js';
import type { CallRequest } from '../router.js';
import { LinkTag, type LinkMessage } from './link-protocol.js';
import type { CallSpan, CallTracer } from '../tracing/call-tracer.js';

/** Re-sends of one forwarded call after retryable answers (E_UNAVAILABLE, E_OVERLOADED) from its owner. */
const MAX_PEER_RETRIES = 5;

/** A call sent to another node, until its answer (or its failure) comes back. */
class ForwardedCall implements Expirable {
  wheelSlot = 0;
  /** Re-sends after a retryable answer from the owner. */
  retries = 0;
  /** Peer it was last sent to; null while it waits for a new owner. */
  peer: string | null = null;
  /** The `forward` span, from the first send to the answer (retries included); traced calls on a node with a tracer only. */
  span: CallSpan | null = null;
  constructor(
    /** This process's number for the call: its key in `pending`, in its made-up idem key and in `ack`s. */
    readonly n: number,
    /** The request as it came; `idem` is the key it is sent with (the request's own or a made-up one). */
    readonly req: CallRequest,
    readonly idem: string,
    /** The `ack` to send: this forwarder's own for made-up keys, the request's (or none) for others. */
    readonly madeUpKey: boolean,
    readonly sink: ReplySink,
    readonly sinkId: number | string,
    readonly deadline: number,
    private readonly forwarder: CallForwarder,
  ) {}

  expire(): void {
    this.forwarder.expired(this);
  }
}

/** Ends a call's forward span, if it has one, as failed with `code` (null: answered with a value). */
function endSpan(call: ForwardedCall, code: string | null): void {
  if (call.span === null) return;
  if (code !== null) call.span.fail(code);
  call.span.end();
}

export interface ForwarderHost {
  readonly selfId: string;
  readonly incarnation: string;
  readonly callTimeoutMs: number;
  readonly wheel: DeadlineWheel<Expirable>;
  /** Current owner of an actor. */
  owner(type: string, key: string): string;
  /** Sends to a peer; false when it cannot be sent now (unknown peer, link down, breaker open). */
  send(peerId: string, msg: LinkMessage): boolean;
  peerDown(peerId: string): boolean;
  /** Runs a call here (its shard came back to this node while it waited). */
  callLocal(req: CallRequest, sink: ReplySink, id: number | string): void;
  /** Forward spans (--otel-endpoint); null or absent: none. */
  readonly tracer?: CallTracer | null;
}

export class CallForwarder {
  /** Calls waiting for their answer, by `n`; numbered in order, so the first is the oldest. */
  private readonly pending = new Map<number, ForwardedCall>();
  private readonly limbo = new Set<ForwardedCall>();
  /**
   * Calls are numbered 1, 2, 3... in this process (`n`: small integers, cheap
   * as map keys and to print into made-up keys, which the incarnation already
   * tells apart from another process's). Their ids on the wire are `n` plus a
   * random offset: a node restarted under the same id and address gets, from
   * peers whose links only blinked, answers still queued for its previous
   * process. Had both processes used ids from 1, such an answer would settle
   * an unrelated call of the new one (the chaos suite saw a Transfer start
   * answered `null`, a duplicate's answer meant for another call). From a
   * random offset in 2^44 the two ranges practically never meet, and the ids
   * stay exact integers on the wire.
   */
  private readonly idOffset = Math.floor(Math.random() * 2 ** 44);
  private nextN = 1;
  /** No call numbered below this is pending (advanced lazily, see `oldestPending`). */
  private oldest = 1;
  /** `~fwd:<node>.<incarnation>/`: made up once, a call's number appended per call. */
  private readonly keyPrefix: string;
  private closed = false;
  /** Calls forwarded since start, for metrics. */
  forwarded = 0;

  constructor(private readonly h: ForwarderHost) {
    this.keyPrefix = autoIdemPrefix(h.selfId, h.incarnation);
  }

  get inflight(): number {
    return this.pending.size;
  }

  get waitingForOwner(): number {
    return this.limbo.size;
  }

  /** Sends a call to its owner; the answer comes back through `sink`. */
  forward(req: CallRequest, sink: ReplySink, sinkId: number | string): void {
    const n = this.nextN++;
    // Made-up keys carry the call's number, so the owner can drop them once acknowledged (see `ack`).
    const madeUp = req.idem === undefined || req.idem === null;
    const idem = madeUp ? this.keyPrefix + n : req.idem!;
    const timeout = req.timeoutMs ?? this.h.callTimeoutMs;
    const call = new ForwardedCall(n, req, idem, madeUp, sink, sinkId, Date.now() + timeout, this);
    const tracer = this.h.tracer;
    if (tracer != null && req.traceparent !== undefined) call.span = tracer.start('forward', 'client', req.traceparent, req);
    this.h.wheel.add(call, call.deadline);
    this.pending.set(n, call);
    this.forwarded++;
    this.send(call);
  }

  private send(call: ForwardedCall): void {
    const owner = this.h.owner(call.req.type, call.req.key);
    if (owner === this.h.selfId) {
      // Ownership came back here while it waited: run it locally, same idem key.
      this.settleLocally(call);
      return;
    }
    const remaining = call.deadline - Date.now();
    // Every made-up call below the oldest one still pending has been answered: the owner may forget those keys.
    const ack = call.madeUpKey ? this.oldestPending(call.n) : (call.req.ack ?? -1);
    const r = call.req;
    // The owner's turn hangs under the forward span; with no tracer here the caller's context goes on as it came.
    const tp = call.span !== null ? call.span.traceparent : r.traceparent;
    const id = this.idOffset + call.n;
    const msg: LinkMessage = tp === undefined
      ? [LinkTag.Call, id, r.type, r.key, r.method, r.args, call.idem, r.caller ?? null, Math.max(1, remaining), ack]
      : [LinkTag.Call, id, r.type, r.key, r.method, r.args, call.idem, r.caller ?? null, Math.max(1, remaining), ack, tp];
    if (this.h.send(owner, msg)) {
      call.peer = owner;
      this.limbo.delete(call);
    } else {
      call.peer = null;
      this.limbo.add(call);
    }
  }

  /**
   * The number of the oldest call still pending (`n` itself at the least: it
   * is pending while it is sent). Numbers only grow and a call leaves
   * `pending` once, so the mark moves past each number once: O(1) a call
   * over time, without an iterator a call.
   */
  private oldestPending(n: number): number {
    while (this.oldest < n && !this.pending.has(this.oldest)) this.oldest++;
    return this.oldest;
  }

  private settleLocally(call: ForwardedCall): void {
    this.pending.delete(call.n);
    this.limbo.delete(call);
    this.h.wheel.remove(call);
    call.span?.end();
    const remaining = call.deadline - Date.now();
    this.h.callLocal({ ...call.req, idem: call.idem, timeoutMs: Math.max(1, remaining) }, call.sink, call.sinkId);
  }

  /** Called by the deadline wheel (through the call's `expire`). */
  expired(call: ForwardedCall): void {
    if (!this.pending.delete(call.n)) return;
    this.limbo.delete(call);
    endSpan(call, 'E_TIMEOUT');
    call.sink.deliver(call.sinkId, [0, { code: 'E_TIMEOUT', message: 'call did not complete within its deadline; the turn may still complete: retry with the same idem key to be safe' }]);
  }

  /** An answer from a peer. Only the peer a call was sent to may answer it: a late answer from an old owner is dropped (the call was re-sent). */
  answered(from: string, id: number, result: TurnResult): void {
    const call = this.pending.get(id - this.idOffset);
    if (call === undefined || call.peer !== from) return;
    if (result[0] === 0 && RETRYABLE_CODES.has(result[1].code) && this.retryLater(call)) return;
    this.pending.delete(call.n);
    this.h.wheel.remove(call);
    if (call.span !== null) endSpan(call, result[0] === 1 ? null : result[1].code);
    call.sink.deliver(call.sinkId, result);
  }

  /**
   * The owner was overloaded or could not reach the grid: send the call again
   * after a backoff with jitter, with the same idem key, while its deadline
   * allows. Never for E_ACTOR_FAILED: that is the handler's answer.
   */
  private retryLater(call: ForwardedCall): boolean {
    if (call.retries >= MAX_PEER_RETRIES) return false;
    const delay = Math.min(1000, 25 * 2 ** call.retries) * (0.5 + Math.random());
    if (Date.now() + delay >= call.deadline) return false;
    call.retries++;
    call.peer = null;
    setTimeout(() => {
      if (this.pending.has(call.n) && !this.closed) this.send(call);
    }, delay).unref();
    return true;
  }

  /** Whatever was sent to the peer may or may not have run: wait for its replacement (or its return), then send again. */
  peerDown(peerId: string): void {
    for (const call of this.pending.values()) {
      if (call.peer === peerId) {
        call.peer = null;
        this.limbo.add(call);
      }
    }
  }

  /** Sends again the calls in limbo whose owner can be reached now. */
  retryLimbo(): void {
    if (this.limbo.size === 0) return;
    for (const call of [...this.limbo]) {
      const owner = this.h.owner(call.req.type, call.req.key);
      if (owner === this.h.selfId || !this.h.peerDown(owner)) this.send(call);
    }
  }

  close(): void {
    this.closed = true;
    for (const call of this.pending.values()) {
      this.h.wheel.remove(call);
      endSpan(call, 'E_UNAVAILABLE');
      call.sink.deliver(call.sinkId, [0, { code: 'E_UNAVAILABLE', message: 'node stopped before the owner answered; retry with the same idem key' }]);
    }
    this.pending.clear();
    this.limbo.clear();
  }
}
