/**
 * The `gateway` span: a server span from the frame's (or request's) decode to
 * the reply leaving, under the client's traceparent when it sent one. Shared
 * by the WebSocket frame handler and the HTTP API.
 */
import type { Envelope, ReplySink } from '../envelope.js';
import type { TurnResult } from '../pool/protocol.js';
import type { CallRequest } from '../router.js';
import type { CallSpan, CallTracer } from './call-tracer.js';

/** Ends the gateway span as the answer goes to the client. */
export class GatewaySpanSink implements ReplySink {
  constructor(private readonly span: CallSpan, private readonly inner: ReplySink) {}

  deliver(id: number | string, result: TurnResult, env?: Envelope): void {
    if (result[0] === 0) this.span.fail(result[1].code, result[1].message);
    this.span.end();
    this.inner.deliver(id, result, env);
  }
}

/**
 * Starts the gateway span of a call and gives the request its context: the
 * request, now carrying the span as its parent, and the span.
 */
export function gatewaySpan(tracer: CallTracer, req: CallRequest, clientParent: string | undefined, startAt?: number): { req: CallRequest; span: CallSpan } {
  const span = tracer.start('gateway', 'server', clientParent ?? null, { type: req.type, key: req.key, method: req.method }, startAt);
  return { req: { ...req, traceparent: span.traceparent }, span };
}
