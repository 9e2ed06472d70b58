import { performance } from 'node:perf_hooks';
import { newTrace, TRACE_LATENCY } from './metrics/latency-trace.js';
import { Errors, type ErrorData } from '../protocol/errors.js';
import type { ActorRegistry } from './actor-registry.js';
import type { DeadlineWheel, Expirable } from './deadline-wheel.js';
import { DISCARD, Envelope, type ReplySink } from './envelope.js';
import type { NodeMetrics } from './metrics/node-metrics.js';
import type { TurnResult } from './pool/protocol.js';


/** A call as it enters the node, from any source (client, HTTP, worker, peer). */
export interface CallRequest {
  readonly type: string;
  readonly key: string;
  readonly method: string;
  readonly args: readonly unknown[];
  readonly idem?: string | null;
  readonly caller?: string | null;
  readonly timeoutMs?: number;
  /** Forwarded calls: the sending node's lowest unanswered sequence number. */
  readonly ack?: number;
  /** W3C trace context of the span that made this call; absent when untraced (no field at all, on the hot path). */
  readonly traceparent?: string;
}

/** Where calls for actors owned by other nodes go (absent on a single node). */
export interface RemoteRoute {
  isLocal(type: string, key: string): boolean;
  forward(req: CallRequest, sink: ReplySink, id: number | string): void;
  forwardTell(req: CallRequest): void;
}

/**
 * Where every call enters: checks the actor type and method against the
 * registry, gives the call its deadline, and hands it to the scheduler here
 * or to the owner's node.
 */
export class Router {
  /** Set when the node joins a cluster. */
  remote: RemoteRoute | null = null;

  constructor(
    private readonly registry: ActorRegistry,
    private readonly turns: { enqueue(env: Envelope): void },
    private readonly wheel: DeadlineWheel<Expirable>,
    private readonly metrics: NodeMetrics,
    private readonly defaultTimeoutMs: number,
  ) {}

  private readonly settled = (env: Envelope, result: TurnResult): void => {
    this.wheel.remove(env);
    this.metrics.record(env.type, (performance.now() - env.start) / 1000, result[0] === 1 ? null : (result[1] as ErrorData).code);
  };

  /** Routes a call; its answer (or refusal) always arrives through `sink`, exactly once. */
  call(req: CallRequest, sink: ReplySink, id: number | string): void {
    if (!this.check(req.type, req.method, sink, id)) return;
    const remote = this.remote;
    if (remote !== null && !remote.isLocal(req.type, req.key)) {
      if (sink === DISCARD) remote.forwardTell(req);
      else remote.forward(req, sink, id);
      return;
    }
    this.enqueue(req, sink, id, false);
  }

  /**
   * `call()` for a client's untraced call or tell, its fields as arguments:
   * the gateway runs this for every message, and a request object per call
   * is one more object per call for the collector (built here only when the
   * call is forwarded to another node).
   */
  callFields(
    type: string, key: string, method: string, args: readonly unknown[], idem: string | null, caller: string | null,
    timeoutMs: number | undefined, sink: ReplySink, id: number | string,
  ): void {
    if (!this.check(type, method, sink, id)) return;
    const remote = this.remote;
    if (remote !== null && !remote.isLocal(type, key)) {
      const req: CallRequest = { type, key, method, args, idem, caller, timeoutMs };
      if (sink === DISCARD) remote.forwardTell(req);
      else remote.forward(req, sink, id);
      return;
    }
    this.wheelAndQueue(this.envelope(type, key, method, args, idem, caller, timeoutMs, sink, id, false));
  }

  /** Runs a call on this node whatever the placement says: another node sent it here. */
  callLocal(req: CallRequest, sink: ReplySink, id: number | string): void {
    if (this.check(req.type, req.method, sink, id)) this.enqueue(req, sink, id, true);
  }

  /** Routes a queued call again (its actor moved to another node), keeping its deadline and idem key. */
  reroute(env: Envelope): void {
    this.wheel.remove(env);
    env.handOff();
    const timeoutMs = Math.max(1, env.deadline - Date.now());
    const req: CallRequest = { type: env.type, key: env.key, method: env.method, args: env.args, idem: env.idem, caller: env.caller, timeoutMs };
    this.call(env.traceparent === null ? req : { ...req, traceparent: env.traceparent }, env.sink, env.id);
  }

  private check(typeName: string, method: string, sink: ReplySink, id: number | string): boolean {
    const type = this.registry.get(typeName);
    if (type === undefined) {
      this.refuse(sink, id, Errors.unknownActor(typeName).toData());
      return false;
    }
    if (!type.methods.has(method)) {
      this.refuse(sink, id, Errors.unknownMethod(typeName, method).toData());
      return false;
    }
    return true;
  }

  private enqueue(req: CallRequest, sink: ReplySink, id: number | string, forwarded: boolean): void {
    const env = this.envelope(req.type, req.key, req.method, req.args, req.idem ?? null, req.caller ?? null, req.timeoutMs, sink, id, forwarded);
    if (req.ack !== undefined) env.ack = req.ack;
    if (req.traceparent !== undefined) env.traceparent = req.traceparent;
    this.wheelAndQueue(env);
  }

  private envelope(
    type: string, key: string, method: string, args: readonly unknown[], idem: string | null, caller: string | null,
    timeoutMs: number | undefined, sink: ReplySink, id: number | string, forwarded: boolean,
  ): Envelope {
    const env = new Envelope(type, key, method, args, idem, caller, Date.now() + (timeoutMs ?? this.defaultTimeoutMs), sink, id, performance.now(), this.settled);
    env.forwarded = forwarded;
    if (TRACE_LATENCY) env.trace = newTrace();
    return env;
  }

  private wheelAndQueue(env: Envelope): void {
    this.wheel.add(env, env.deadline);
    this.turns.enqueue(env);
  }

  private refuse(sink: ReplySink, id: number | string, error: ErrorData): void {
    this.metrics.recordError(error.code);
    sink.deliver(id, [0, error]);
  }
}
