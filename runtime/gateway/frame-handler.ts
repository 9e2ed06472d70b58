import { isRejected, parseClientMessage } from '../../protocol/wire.js';
import { DISCARD } from '../envelope.js';
import type { Router } from '../router.js';
import type { TopicHub } from '../topics.js';
import type { ClientConnection } from './client-connection.js';
import { decodeFrame } from './frame-codec.js';
import type { NodeMetrics } from '../metrics/node-metrics.js';

export interface FrameLimits {
  readonly maxFrame: number;
  readonly maxBatch: number;
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
  constructor(
    private readonly router: Router,
    private readonly topics: TopicHub,
    private readonly metrics: NodeMetrics,
    private readonly limits: FrameLimits,
  ) {}

  handle(conn: ClientConnection, frame: ArrayBuffer, binary: boolean): void {
    conn.binary = binary;
    if (frame.byteLength > this.limits.maxFrame) {
      this.metrics.recordError('E_TOO_LARGE');
      conn.error(null, { code: 'E_TOO_LARGE', message: `frame of ${frame.byteLength} bytes exceeds the maximum of ${this.limits.maxFrame} bytes (--max-frame)` });
      return;
    }
    const decoded = decodeFrame(frame, binary);
    if (!decoded.ok) {
      this.metrics.recordError('E_BAD_REQUEST');
      conn.error(null, { code: 'E_BAD_REQUEST', message: decoded.message });
      return;
    }
    const value = decoded.value;
    if (Array.isArray(value)) {
      if (value.length > this.limits.maxBatch) {
        this.metrics.recordError('E_TOO_LARGE');
        conn.error(null, { code: 'E_TOO_LARGE', message: `batch of ${value.length} messages exceeds the maximum of ${this.limits.maxBatch} (--max-batch)` });
        return;
      }
      for (let i = 0; i < value.length; i++) this.message(conn, value[i]);
    } else {
      this.message(conn, value);
    }
  }

  private message(conn: ClientConnection, raw: unknown): void {
    const msg = parseClientMessage(raw);
    if (isRejected(msg)) {
      this.metrics.recordError('E_BAD_REQUEST');
      conn.error(msg.id, msg.error);
      return;
    }
    switch (msg.op) {
      case 'call':
        if (this.limits.rateLimit > 0 && !conn.takeToken(this.limits.rateLimit)) {
          this.metrics.recordError('E_OVERLOADED');
          conn.error(msg.id, { code: 'E_OVERLOADED', message: `connection is over its rate limit of ${this.limits.rateLimit} calls/s (--rate-limit); slow down` });
          return;
        }
        if (conn.inflight >= this.limits.maxInflight) {
          this.metrics.recordError('E_OVERLOADED');
          conn.error(msg.id, { code: 'E_OVERLOADED', message: `connection has ${conn.inflight} calls in flight, the maximum (--max-inflight); wait for answers` });
          return;
        }
        conn.inflight++;
        this.router.call(
          { type: msg.actor, key: msg.key, method: msg.method, args: msg.args, idem: msg.idem ?? null, caller: conn.caller, timeoutMs: msg.timeout },
          conn,
          msg.id,
        );
        return;
      case 'tell':
        this.router.call(
          { type: msg.actor, key: msg.key, method: msg.method, args: msg.args, idem: msg.idem ?? null, caller: conn.caller, timeoutMs: msg.timeout },
          DISCARD,
          0,
        );
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
}
