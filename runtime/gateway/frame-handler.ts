import { isRejected, parseClientMessage } from '../../protocol/wire.js';
import { DISCARD } from '../envelope.js';
import type { Router } from '../router.js';
import type { TopicHub } from '../topics.js';
import type { ClientConnection } from './client-connection.js';
import { decodeFrame, decodeScanned, Refused, scanFrame, type DecodeLimits, type ScannedFrame } from './frame-codec.js';
import { CALL, CallReader } from './call-reader.js';
import type { NodeMetrics } from '../metrics/node-metrics.js';
import { frameArrived, TRACE_LATENCY } from '../metrics/latency-trace.js';
import type { CallMessage, RequestId, TellMessage } from '../../protocol/wire.js';
import type { CallRequest } from '../router.js';
import type { CallTracer } from '../tracing/call-tracer.js';
import { GatewaySpanSink, gatewaySpan } from '../tracing/gateway-span.js';

export interface FrameLimits extends DecodeLimits {
  readonly maxFrame: number;
  readonly maxInflight: number;
  /** Calls per second per connection (0: unlimited). */
  readonly rateLimit: number;
}

/**
 * Turns one client frame into calls, tells and subscriptions. Everything a
 * client sends is checked here; a bad message gets its own E_BAD_REQUEST and
 * the rest of the batch and the connection carry on.
 */
export class FrameHandler {
  /** When the frame being handled arrived (performance.now()), with a tracer only: its calls' gateway spans start there. */
  private frameAt = 0;
  /** Reads plain calls from their bytes (one frame at a time: the event loop's thread). */
  private readonly reader = new CallReader();

  constructor(
    private readonly router: Router,
    private readonly topics: TopicHub,
    private readonly metrics: NodeMetrics,
    private readonly limits: FrameLimits,
    /** Set with --otel-endpoint only; null: no span is made. */
    private readonly tracer: CallTracer | null = null,
  ) {}

  handle(conn: ClientConnection, frame: ArrayBuffer, binary: boolean): void {
    if (TRACE_LATENCY) frameArrived();
    if (this.tracer !== null) this.frameAt = performance.now();
    conn.binary = binary;
    if (frame.byteLength > this.limits.maxFrame) {
      this.metrics.recordError('E_TOO_LARGE');
      conn.error(null, { code: 'E_TOO_LARGE', message: `frame of ${frame.byteLength} bytes exceeds the maximum of ${this.limits.maxFrame} bytes (--max-frame)` });
      return;
    }
    if (binary && this.tracer === null) {
      // The usual frame: every message within the limits; plain calls are read without decoding them into objects.
      const scanned = scanFrame(frame, this.limits);
      if (scanned !== null) {
        this.scanned(conn, scanned);
        return;
      }
    }
    // Depth, sizes and msgpack extensions are checked while decoding; a message past them arrives here as a Refused.
    const decoded = decodeFrame(frame, binary, this.limits);
    if (!decoded.ok) {
      this.metrics.recordError(decoded.code);
      conn.error(null, { code: decoded.code, message: decoded.message });
      return;
    }
    const value = decoded.value;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) this.message(conn, value[i]);
    } else {
      this.message(conn, value);
    }
  }

  private scanned(conn: ClientConnection, frame: ScannedFrame): void {
    const r = this.reader;
    const n = frame.starts.length - 1;
    for (let i = 0; i < n; i++) {
      if (r.read(frame.bytes, frame.starts[i]!, frame.starts[i + 1]!, this.limits.maxKey)) {
        this.plain(conn, r.op === CALL, r.id, r.actor, r.key, r.method, r.args, r.idem, r.timeout);
      } else {
        this.message(conn, decodeScanned(frame, i, this.limits));
      }
    }
  }

  /** An untraced call or tell that passed the edge's checks, from either reader. */
  private plain(
    conn: ClientConnection, call: boolean, id: RequestId, actor: string, key: string, method: string,
    args: readonly unknown[], idem: string | null, timeout: number | undefined,
  ): void {
    if (!call) {
      this.router.callFields(actor, key, method, args, idem, conn.caller, timeout, DISCARD, 0);
      return;
    }
    if (this.admit(conn, id)) this.router.callFields(actor, key, method, args, idem, conn.caller, timeout, conn, id);
  }

  /** A call within the connection's rate limit and in-flight bound is counted in flight; else it is refused here. */
  private admit(conn: ClientConnection, id: RequestId): boolean {
    if (this.limits.rateLimit > 0 && !conn.takeToken(this.limits.rateLimit)) {
      this.metrics.recordError('E_OVERLOADED');
      conn.error(id, { code: 'E_OVERLOADED', message: `connection is over its rate limit of ${this.limits.rateLimit} calls/s (--rate-limit); slow down` });
      return false;
    }
    if (conn.inflight >= this.limits.maxInflight) {
      this.metrics.recordError('E_OVERLOADED');
      conn.error(id, { code: 'E_OVERLOADED', message: `connection has ${conn.inflight} calls in flight, the maximum (--max-inflight); wait for answers` });
      return false;
    }
    conn.inflight++;
    return true;
  }

  private message(conn: ClientConnection, raw: unknown): void {
    if (raw instanceof Refused) {
      this.metrics.recordError(raw.error.code);
      conn.error(raw.id, raw.error);
      return;
    }
    const msg = parseClientMessage(raw, this.limits);
    if (isRejected(msg)) {
      this.metrics.recordError('E_BAD_REQUEST');
      conn.error(msg.id, msg.error);
      return;
    }
    switch (msg.op) {
      case 'call':
      case 'tell':
        if (this.tracer !== null || msg.traceparent !== undefined) {
          if (msg.op === 'call' && !this.admit(conn, msg.id)) return;
          this.traced(msg, conn);
          return;
        }
        this.plain(conn, msg.op === 'call', msg.op === 'call' ? msg.id : 0, msg.actor, msg.key, msg.method, msg.args, msg.idem ?? null, msg.timeout);
        return;
      case 'sub':
        this.topics.subscribe(msg.topic, conn);
        conn.answer(msg.id, true);
        return;
      case 'unsub':
        this.topics.unsubscribe(msg.topic, conn);
        conn.answer(msg.id, true);
        return;
    }
  }

  /**
   * A call or tell with a trace context, or on a node with a tracer: off the
   * plain path above, so untraced calls on an untraced node build nothing more.
   */
  private traced(msg: CallMessage | TellMessage, conn: ClientConnection): void {
    const plain: CallRequest = { type: msg.actor, key: msg.key, method: msg.method, args: msg.args, idem: msg.idem ?? null, caller: conn.caller, timeoutMs: msg.timeout };
    if (this.tracer === null) {
      // No spans here, but the caller's context still travels to the turn, its calls and other nodes.
      this.router.call({ ...plain, traceparent: msg.traceparent! }, msg.op === 'call' ? conn : DISCARD, msg.op === 'call' ? msg.id : 0);
      return;
    }
    const { req, span } = gatewaySpan(this.tracer, plain, msg.traceparent, this.frameAt);
    if (msg.op === 'call') {
      this.router.call(req, new GatewaySpanSink(span, conn), msg.id);
      return;
    }
    // Nobody waits for a tell's answer: its gateway span covers routing it.
    this.router.call(req, DISCARD, 0);
    span.end();
  }
}
