/**
 * TroupeClient: calls, tells and subscriptions over one WebSocket to a
 * Troupe node, with batching, deadlines, retries and reconnects.
 *
 * The hot path (call → frame → reply) allocates the message, one PendingCall
 * and the promise; ids are small integers looked up in one Map; one timer
 * serves every deadline; one decode serves every reply in a frame.
 */
import { actorTypeName, type ActorClass, type Ref } from '../actors/index.js';
import { RETRYABLE_CODES, TroupeError, type ErrorCode, type TellMessage } from '../protocol/index.js';
import { backoffDelay } from './backoff.js';
import { Codec } from './codec.js';
import { Connection } from './connection.js';
import { Deadlines } from './deadlines.js';
import { ClientErrors } from './errors.js';
import { checkCallOptions, resolveOptions, type CallOptions, type ClientOptions, type ClientState, type ResolvedOptions } from './options.js';
import { Outbox } from './outbox.js';
import { Phase, PendingCall, type OutgoingRequest } from './pending.js';
import { makeProxy, type UntypedRef } from './proxy.js';
import { Subscriptions, type EventHandler, type Subscription } from './subscriptions.js';
import { activeTraceparent, loadTraceApi } from './trace-context.js';
import type { Socket } from './transport.js';

/** The argument tuple of method M of actor class C. */
export type ArgsOf<C, M extends keyof Ref<C>> = Ref<C>[M] extends (...args: infer A) => unknown ? A : never;
/** What calling method M of actor class C resolves to (a promise). */
export type ResultOf<C, M extends keyof Ref<C>> = Ref<C>[M] extends (...args: never[]) => infer R ? R : never;

const MAX_ID = 0x7fffffff;
const now = (): number => performance.now();

function randomId(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export class TroupeClient {
  /** Prefix of generated idem keys; unique per client instance. */
  readonly clientId = randomId();
  /** Resolves at the first open connection; rejects if none opens within connectTimeout. */
  readonly ready: Promise<void>;
  private readonly opts: ResolvedOptions;
  private readonly codec = new Codec();
  private readonly pending = new Map<number, PendingCall>();
  /** Calls backing off before a retry; they are out of `pending` because their old id is dead. */
  private readonly waiting = new Set<PendingCall>();
  private readonly deadlines: Deadlines<PendingCall>;
  private readonly outbox: Outbox;
  private readonly subs: Subscriptions;
  private readonly connection: Connection;
  private seq = 0;
  private idemSeq = 0;
  private closedBy: TroupeError | null = null;

  /** Validates `options` (throwing a TypeError naming a bad one) and starts connecting; calls made before the socket opens are queued. */
  constructor(options: ClientOptions) {
    // Looked for once, in the background: by the first call it has long been found (or not).
    void loadTraceApi();
    this.opts = resolveOptions(options);
    this.deadlines = new Deadlines<PendingCall>(now, this.expire);
    this.outbox = new Outbox(this.codec, this.opts, (call, err) => this.settle(call, err), this.opts.onError);
    this.subs = new Subscriptions((op, topic) => this.request({ op, id: this.nextId(), topic }, this.opts.timeout), this.opts.onError);
    this.connection = new Connection(this.opts, {
      opened: (socket) => this.opened(socket),
      frame: (data) => this.receive(data),
      dropped: () => this.dropped(),
      failed: (err) => this.shutdown(err),
    });
    this.ready = this.connection.start();
    // Failures reach callers through their calls; `ready` must not also crash the process as unhandled.
    this.ready.catch(() => {});
  }

  get state(): ClientState {
    return this.connection.state;
  }

  /** A typed proxy: `client.actor(Counter, 'c1').add(5)` is a `Promise<number>`. Options apply to every call through it. */
  actor<C extends ActorClass>(type: C, key: string, options?: CallOptions): Ref<C>;
  /** A proxy by type name: untyped, or typed with `client.actor<typeof Counter>('Counter', 'c1')`. */
  actor<C = unknown>(type: string, key: string, options?: CallOptions): C extends ActorClass ? Ref<C> : UntypedRef;
  actor(type: ActorClass | string, key: string, options?: CallOptions): unknown {
    checkCallOptions(options);
    const name = actorTypeName(type);
    return makeProxy((method, args) => this.send(name, key, method, args, options));
  }

  /** One call, without a proxy. Rejects with a TroupeError (E_TIMEOUT, E_UNAVAILABLE, or the node's code). */
  call<C extends ActorClass, M extends keyof Ref<C>>(type: C, key: string, method: M, args: ArgsOf<C, M>, options?: CallOptions): ResultOf<C, M>;
  call(type: string, key: string, method: string, args: readonly unknown[], options?: CallOptions): Promise<unknown>;
  call(type: ActorClass | string, key: string, method: PropertyKey, args: readonly unknown[], options?: CallOptions): Promise<unknown> {
    if (!Array.isArray(args)) throw new TypeError('call(): args must be an array');
    checkCallOptions(options);
    return this.send(actorTypeName(type), key, String(method), args, options);
  }

  /**
   * A one-way message: no reply, no delivery guarantee. Throws a TroupeError
   * (E_UNAVAILABLE when closed, E_OVERLOADED when the queue is full).
   */
  tell<C extends ActorClass, M extends keyof Ref<C>>(type: C, key: string, method: M, args: ArgsOf<C, M>, options?: CallOptions): void;
  tell(type: string, key: string, method: string, args: readonly unknown[], options?: CallOptions): void;
  tell(type: ActorClass | string, key: string, method: PropertyKey, args: readonly unknown[], options?: CallOptions): void {
    if (!Array.isArray(args)) throw new TypeError('tell(): args must be an array');
    checkCallOptions(options);
    if (this.closedBy !== null) throw this.closedBy;
    if (this.outbox.length >= this.opts.maxPending) throw ClientErrors.queueFull(this.opts.maxPending);
    const idem = options?.idem ?? (this.opts.autoIdem ? this.nextIdem() : undefined);
    const actor = actorTypeName(type);
    const timeout = options?.timeout ?? this.opts.timeout;
    const m = String(method);
    const msg: TellMessage =
      idem === undefined ? { op: 'tell', actor, key, method: m, args, timeout } : { op: 'tell', actor, key, method: m, args, timeout, idem };
    const traceparent = activeTraceparent();
    this.outbox.push(traceparent === undefined ? msg : { ...msg, traceparent });
  }

  /** Calls `handler` for every event on `topic` until unsubscribed; resolves once the node confirms. */
  subscribe<T = unknown>(topic: string, handler: EventHandler<T>): Promise<Subscription> {
    if (typeof topic !== 'string' || topic.length === 0) throw new TypeError('subscribe(): topic must be a non-empty string');
    if (typeof handler !== 'function') throw new TypeError('subscribe(): handler must be a function');
    if (this.closedBy !== null) return Promise.reject(this.closedBy);
    return this.subs.subscribe(topic, handler);
  }

  /** Rejects every pending call with E_UNAVAILABLE, stops reconnecting and closes the socket. */
  close(): Promise<void> {
    this.shutdown(ClientErrors.closed());
    return this.connection.close();
  }

  private send(actor: string, key: string, method: string, args: readonly unknown[], options: CallOptions | undefined): Promise<unknown> {
    const timeout = options?.timeout ?? this.opts.timeout;
    const idem = options?.idem ?? (this.opts.autoIdem ? this.nextIdem() : undefined);
    const id = this.nextId();
    const msg: OutgoingRequest =
      idem === undefined ? { op: 'call', id, actor, key, method, args, timeout } : { op: 'call', id, actor, key, method, args, timeout, idem };
    // The app's active span, when it has @opentelemetry/api and one: the node's spans join its trace (retries keep it).
    const traceparent = activeTraceparent();
    if (traceparent !== undefined) msg.traceparent = traceparent;
    return this.request(msg, timeout);
  }

  private request(msg: OutgoingRequest, timeout: number): Promise<unknown> {
    if (this.closedBy !== null) return Promise.reject(this.closedBy);
    if (this.pending.size >= this.opts.maxPending) return Promise.reject(ClientErrors.queueFull(this.opts.maxPending));
    return new Promise((resolve, reject) => {
      const call = new PendingCall(msg.id, msg, msg.op !== 'call' || msg.idem !== undefined, timeout, resolve, reject);
      this.pending.set(call.id, call);
      this.deadlines.add(call, timeout, now());
      this.outbox.push(call);
    });
  }

  private nextId(): number {
    this.seq = this.seq >= MAX_ID ? 1 : this.seq + 1;
    return this.seq;
  }

  private nextIdem(): string {
    return `${this.clientId}-${(++this.idemSeq).toString(36)}`;
  }

  /** Ends a call: forgets it everywhere, then resolves or rejects it. */
  private settle(call: PendingCall, error: TroupeError | null, value?: unknown): void {
    if (call.phase === Phase.Done) return;
    if (call.phase === Phase.Waiting) {
      if (call.timer !== null) clearTimeout(call.timer);
      call.timer = null;
      this.waiting.delete(call);
    } else {
      this.pending.delete(call.id);
    }
    this.deadlines.remove(call);
    call.phase = Phase.Done;
    call.msg = null;
    if (error === null) call.resolve(value);
    else call.reject(error);
  }

  private readonly expire = (call: PendingCall): void => this.settle(call, ClientErrors.timeout(call.timeoutMs));

  private receive(data: Uint8Array | string): void {
    let value: unknown;
    try {
      value = this.codec.decode(data);
    } catch (err) {
      this.opts.onError(ClientErrors.badFrame(err));
      return;
    }
    if (Array.isArray(value)) for (const m of value) this.dispatch(m);
    else this.dispatch(value);
  }

  private dispatch(m: unknown): void {
    if (m === null || typeof m !== 'object') return;
    const msg = m as { op?: unknown; id?: unknown; value?: unknown; code?: unknown; message?: unknown; details?: unknown; topic?: unknown; data?: unknown; from?: unknown; seq?: unknown };
    if (msg.op === 'result') {
      const call = this.pending.get(msg.id as number);
      // No entry: a reply that arrived after its call timed out.
      if (call !== undefined) this.settle(call, null, msg.value);
    } else if (msg.op === 'error') {
      // A node may send a code this SDK does not know yet; it is passed on as sent.
      const error = new TroupeError(String(msg.code) as ErrorCode, String(msg.message ?? msg.code), { details: msg.details });
      const call = msg.id === null || msg.id === undefined ? undefined : this.pending.get(msg.id as number);
      if (call === undefined) this.opts.onError(error);
      else this.failed(call, error);
    } else if (msg.op === 'event' && typeof msg.topic === 'string') {
      this.subs.dispatch(msg.topic, msg.data, typeof msg.from === 'string' ? msg.from : undefined, typeof msg.seq === 'number' ? msg.seq : undefined);
    }
  }

  /** A call the node failed: retry it if that is safe and allowed, else reject it. */
  private failed(call: PendingCall, error: TroupeError): void {
    const policy = this.opts.retry;
    if (policy === null || !call.resendable || !RETRYABLE_CODES.has(error.code) || call.attempts >= policy.attempts) {
      return this.settle(call, error);
    }
    const delay = backoffDelay(policy, call.attempts);
    // A retry that could not finish before the deadline only delays the inevitable error.
    if (now() + delay >= call.deadline) return this.settle(call, error);
    this.pending.delete(call.id);
    call.phase = Phase.Waiting;
    call.attempts++;
    this.waiting.add(call);
    call.timer = setTimeout(() => this.retry(call), delay);
  }

  private retry(call: PendingCall): void {
    call.timer = null;
    if (call.phase !== Phase.Waiting || call.msg === null) return;
    this.waiting.delete(call);
    // A fresh id: the node has finished with the old one, but a late duplicate reply must not match.
    call.id = call.msg.id = this.nextId();
    call.msg.timeout &&= Math.max(1, Math.ceil(call.deadline - now()));
    call.phase = Phase.Queued;
    this.pending.set(call.id, call);
    this.outbox.push(call);
  }

  private opened(socket: Socket): void {
    this.outbox.socket = socket;
    this.subs.resubscribe();
    this.outbox.flush();
  }

  /**
   * The socket dropped. Calls not yet written simply wait for the next socket.
   * Calls written but unanswered may or may not have run: those with an idem
   * key (and sub/unsub) are re-sent, since the node applies them at most once;
   * the others fail with E_UNAVAILABLE.
   */
  private dropped(): void {
    this.outbox.socket = null;
    this.subs.dropped();
    const resend: PendingCall[] = [];
    const t = now();
    for (const call of this.pending.values()) {
      if (call.phase !== Phase.Sent) continue;
      if (call.resendable && call.msg !== null) {
        call.phase = Phase.Queued;
        // The node should stop working on it when we stop waiting for it.
        call.msg.timeout &&= Math.max(1, Math.ceil(call.deadline - t));
        resend.push(call);
      } else {
        this.settle(call, ClientErrors.connectionLost());
      }
    }
    this.outbox.unshift(resend);
  }

  /** No more connections: fail everything that waits, with `error`. */
  private shutdown(error: TroupeError): void {
    if (this.closedBy !== null) return;
    this.closedBy = error;
    this.deadlines.stop();
    this.outbox.socket = null;
    this.outbox.clear();
    this.subs.clear();
    for (const call of [...this.pending.values(), ...this.waiting]) this.settle(call, error);
  }
}

/** Connects to a Troupe node and resolves once the socket is open. Rejects with E_UNAVAILABLE or E_UNAUTHORIZED. */
export async function connect(options: ClientOptions): Promise<TroupeClient> {
  const client = new TroupeClient(options);
  try {
    await Promise.all([client.ready, loadTraceApi()]);
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}
