import type { ErrorData } from '../protocol/errors.js';
import type { TurnResult } from './pool/protocol.js';
import type { Expirable } from './deadline-wheel.js';
import { TRACE_LATENCY, stamp, type CallTrace } from './metrics/latency-trace.js';
import type { CallSpan } from './tracing/call-tracer.js';

/** Where the answer to a call goes: a client connection, an HTTP response, a worker, a peer node. */
export interface ReplySink {
  /** `env` is the envelope when the call ran on this node; absent for answers from other nodes. */
  deliver(id: number | string, result: TurnResult, env?: Envelope): void;
}

/** A sink for client tells: nobody waits for the answer. */
export const DISCARD: ReplySink = { deliver: () => {} };

/** Numbers every message this process takes in: a turn's identity when its caller gave no idem key. */
let nextTurn = 1;

const TIMEOUT_HINT = 'the turn may still complete: retry with the same idem key to be safe';

/**
 * One message on its way to an actor. Answered exactly once: by its turn, by
 * its deadline, or by a failure on the way, whichever comes first.
 */
export class Envelope implements Expirable {
  wheelSlot = 0;
  done = false;
  /** Sent here by another node: runs here whatever this node's placement says (no ping-pong while views differ). */
  forwarded = false;
  /** For forwarded calls: the sender's lowest unanswered sequence number (see TurnMessage). */
  ack = -1;
  /** performance.now() at arrival, for the latency histogram. */
  readonly start: number;
  /** This message's number in this process: the same however often its turn runs. */
  readonly turn = nextTurn++;
  /** Stage stamps, in tracing mode only (TROUPE_TRACE_LATENCY=1, metrics/latency-trace.ts). */
  trace: CallTrace | null = null;
  /** W3C trace context of the span that made this call (a client's, a peer's forward span, a turn's); null: untraced. */
  traceparent: string | null = null;
  /** The span of this message's turn while it runs, with --otel-endpoint only: the parent of its commit and its calls. */
  turnSpan: CallSpan | null = null;

  constructor(
    readonly type: string,
    readonly key: string,
    readonly method: string,
    readonly args: readonly unknown[],
    readonly idem: string | null,
    readonly caller: string | null,
    readonly deadline: number,
    readonly sink: ReplySink,
    readonly id: number | string,
    start: number,
    readonly onSettle: (env: Envelope, result: TurnResult) => void,
  ) {
    this.start = start;
  }

  settle(result: TurnResult): void {
    if (this.done) return;
    this.done = true;
    if (TRACE_LATENCY && this.trace !== null) this.trace.settled = stamp();
    this.onSettle(this, result);
    this.sink.deliver(this.id, result, this);
  }

  fail(error: ErrorData): void {
    this.settle([0, error]);
  }

  /** Leaves this node's hands without an answer: another route now owns answering it. */
  handOff(): void {
    this.done = true;
  }

  expire(): void {
    this.fail({ code: 'E_TIMEOUT', message: `call did not complete within its deadline; ${TIMEOUT_HINT}` });
  }
}
