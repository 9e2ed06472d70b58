import { performance } from 'node:perf_hooks';
import type { ErrorData } from '../protocol/errors.js';
import type { ActorRegistry } from './actor-registry.js';
import type { DeadlineWheel } from './deadline-wheel.js';
import { Envelope, type ReplySink } from './envelope.js';
import type { NodeMetrics } from './metrics/node-metrics.js';
import type { TurnResult } from './pool/protocol.js';
import type { TurnScheduler } from './turn-scheduler.js';

/** A call as it enters the node, from any source (client, HTTP, worker, peer). */
export interface CallRequest {
  readonly type: string;
  readonly key: string;
  readonly method: string;
  readonly args: readonly unknown[];
  readonly idem?: string | null;
  readonly caller?: string | null;
  readonly timeoutMs?: number;
}

/**
 * Where every call enters: checks the actor type and method against the
 * registry, gives the call its deadline, and hands it to the scheduler.
 */
export class Router {
  constructor(
    private readonly registry: ActorRegistry,
    private readonly scheduler: TurnScheduler,
    private readonly wheel: DeadlineWheel<Envelope>,
    private readonly metrics: NodeMetrics,
    private readonly defaultTimeoutMs: number,
  ) {}

  private readonly settled = (env: Envelope, result: TurnResult): void => {
    this.wheel.remove(env);
    this.metrics.record(env.type, (performance.now() - env.start) / 1000, result[0] === 1 ? null : (result[1] as ErrorData).code);
  };

  /** Routes a call; its answer (or refusal) always arrives through `sink`, exactly once. */
  call(req: CallRequest, sink: ReplySink, id: number | string): void {
    const type = this.registry.get(req.type);
    if (type === undefined) {
      this.refuse(sink, id, { code: 'E_UNKNOWN_ACTOR', message: `no actor type '${req.type}' is registered on this node (check --actors)` });
      return;
    }
    if (!type.methods.has(req.method)) {
      this.refuse(sink, id, { code: 'E_UNKNOWN_METHOD', message: `actor type '${req.type}' exposes no method '${req.method}'` });
      return;
    }
    const timeout = req.timeoutMs ?? this.defaultTimeoutMs;
    const env = new Envelope(req.type, req.key, req.method, req.args, req.idem ?? null, req.caller ?? null, Date.now() + timeout, sink, id, performance.now(), this.settled);
    this.wheel.add(env, env.deadline);
    this.scheduler.enqueue(env);
  }

  private refuse(sink: ReplySink, id: number | string, error: ErrorData): void {
    this.metrics.recordError(error.code);
    // No envelope exists yet; a throwaway one keeps the sink's signature simple on this cold path.
    const env = new Envelope('', '', '', [], null, null, 0, sink, id, 0, () => {});
    env.settle([0, error]);
  }
}
