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
    if (!this.check(req, sink, id)) return;
    const remote = this.remote;
    if (remote !== null && !remote.isLocal(req.type, req.key)) {
      if (sink === DISCARD) remote.forwardTell(req);
      else remote.forward(req, sink, id);
      return;
    }
    this.enqueue(req, sink, id, false);
  }

  /** Runs a call on this node whatever the placement says: another node sent it here. */
  callLocal(req: CallRequest, sink: ReplySink, id: number | string): void {
    if (this.check(req, sink, id)) this.enqueue(req, sink, id, true);
  }

  /** Routes a queued call again (its actor moved to another node), keeping its deadline and idem key. */
  reroute(env: Envelope): void {
    this.wheel.remove(env);
    env.handOff();
    const timeoutMs = Math.max(1, env.deadline - Date.now());
    const req: CallRequest = { type: env.type, key: env.key, method: env.method, args: env.args, idem: env.idem, caller: env.caller, timeoutMs };
    this.call(env.traceparent === null ? req : { ...req, traceparent: env.traceparent }, env.sink, env.id);
  }

  private check(req: CallRequest, sink: ReplySink, id: number | string): boolean {
    const type = this.registry.get(req.type);
    if (type === undefined) {
      this.refuse(sink, id, Errors.unknownActor(req.type).toData());
      return false;
    }
    if (!type.methods.has(req.method)) {
      this.refuse(sink, id, Errors.unknownMethod(req.type, req.method).toData());
      return false;
    }
    return true;
  }

  private enqueue(req: CallRequest, sink: ReplySink, id: number | string, forwarded: boolean): void {
    const timeout = req.timeoutMs ?? this.defaultTimeoutMs;
    const env = new Envelope(req.type, req.key, req.method, req.args, req.idem ?? null, req.caller ?? null, Date.now() + timeout, sink, id, performance.now(), this.settled);
    env.forwarded = forwarded;
    if (TRACE_LATENCY) env.trace = newTrace();
    if (req.ack !== undefined) env.ack = req.ack;
    if (req.traceparent !== undefined) env.traceparent = req.traceparent;
    this.wheel.add(env, env.deadline);
    this.turns.enqueue(env);
  }

  private refuse(sink: ReplySink, id: number | string, error: ErrorData): void {
    this.metrics.recordError(error.code);
    sink.deliver(id, [0, error]);
  }
}
