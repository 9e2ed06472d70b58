import type { WebSocket } from 'uWebSockets.js';
import type { ErrorData } from '../../protocol/errors.js';
import { errorMessage, type RequestId, type ServerMessage } from '../../protocol/wire.js';
import type { Envelope, ReplySink } from '../envelope.js';
import { latencyBudget, stamp, TRACE_LATENCY, type CallTrace } from '../metrics/latency-trace.js';
import type { TurnResult } from '../pool/protocol.js';
import type { Subscriber } from '../topics.js';
import { encodeFrame } from './frame-codec.js';

export interface SocketData {
  conn: ClientConnection | null;
  caller: string | null;
}

/** The gateway's hooks a connection needs: flushing is batched across connections. */
export interface ConnectionOwner {
  markDirty(conn: ClientConnection): void;
}

/**
 * One client's WebSocket: its answers wait in an outbox and leave as one
 * frame per event-loop turn, corked. Answers follow the format (msgpack or
 * JSON) of the client's most recent frame.
 */
export class ClientConnection implements ReplySink, Subscriber {
  private outbox: ServerMessage[] = [];
  /** Tracing mode: calls answered in the outbox, stamped once it is sent. */
  private traced: CallTrace[] = [];
  private dirty = false;
  binary = true;
  inflight = 0;
  /** Frames held back while the client is not reading its answers. */
  readonly parked: { frame: ArrayBuffer; binary: boolean }[] = [];
  parkedBytes = 0;
  congested = false;
  closed = false;
  /** Token bucket for --rate-limit: starts full (one second's worth). */
  private tokens = -1;
  private refilledAt = 0;

  constructor(
    private ws: WebSocket<SocketData> | null,
    private readonly owner: ConnectionOwner,
    readonly caller: string | null,
  ) {}

  deliver(id: RequestId, result: TurnResult, env?: Envelope): void {
    this.inflight--;
    if (this.closed) return;
    if (TRACE_LATENCY && env?.trace != null) this.traced.push(env.trace);
    this.push(result[0] === 1 ? { op: 'result', id, value: result[1] } : errorMessage(id, result[1]));
  }

  /** Takes one call's token from the bucket; false when the connection is over its rate. */
  takeToken(ratePerSecond: number): boolean {
    const now = performance.now();
    if (this.tokens < 0) this.tokens = ratePerSecond;
    else this.tokens = Math.min(ratePerSecond, this.tokens + ((now - this.refilledAt) * ratePerSecond) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** An answer that did not come from a turn (sub, unsub, refusals at the edge). */
  answer(id: RequestId, value: unknown): void {
    this.push({ op: 'result', id, value });
  }

  error(id: RequestId | null, error: ErrorData): void {
    this.push(errorMessage(id, error));
  }

  event(topic: string, data: unknown, from: string, seq: number): void {
    this.push({ op: 'event', topic, data, from, seq });
  }

  private push(msg: ServerMessage): void {
    if (this.closed) return;
    this.outbox.push(msg);
    if (!this.dirty) {
      this.dirty = true;
      this.owner.markDirty(this);
    }
  }

  /** Sends the outbox as one frame; returns the socket's buffered bytes afterwards. */
  flush(): number {
    this.dirty = false;
    const ws = this.ws;
    if (ws === null || this.closed || this.outbox.length === 0) {
      this.outbox = [];
      return 0;
    }
    const frame = encodeFrame(this.outbox, this.binary);
    this.outbox = [];
    ws.cork(() => {
      ws.send(frame, typeof frame !== 'string');
    });
    if (TRACE_LATENCY && this.traced.length > 0) {
      const sent = stamp();
      for (const t of this.traced) latencyBudget.record(t, sent);
      this.traced = [];
    }
    return ws.getBufferedAmount();
  }

  bufferedAmount(): number {
    return this.ws === null ? 0 : this.ws.getBufferedAmount();
  }

  close(code: number, reason: string): void {
    const ws = this.ws;
    if (ws === null || this.closed) return;
    ws.cork(() => ws.end(code, reason));
  }

  /** The socket is gone: answers still arriving for its calls are dropped. */
  detach(): void {
    this.closed = true;
    this.ws = null;
    this.outbox = [];
    this.parked.length = 0;
    this.parkedBytes = 0;
  }
}
