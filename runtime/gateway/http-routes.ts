import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { HTTP_STATUS, type ErrorData } from '../../protocol/errors.js';
import type { WireLimits } from '../../protocol/limits.js';
import { isRejected, MAX_TIMEOUT_MS, parseClientMessage } from '../../protocol/wire.js';
import type { ReplySink } from '../envelope.js';
import type { NodeMetrics } from '../metrics/node-metrics.js';
import type { TurnResult } from '../pool/protocol.js';
import type { CallRequest, Router } from '../router.js';
import { isTraceparent } from '../../protocol/traceparent.js';
import type { CallTracer } from '../tracing/call-tracer.js';
import { GatewaySpanSink, gatewaySpan } from '../tracing/gateway-span.js';
import type { AuthResult } from './auth.js';
import type { CorsPolicy, HeaderList } from './cors.js';
import { decodeJsonArgs } from './frame-codec.js';

export interface Readiness {
  readonly ready: boolean;
  readonly details: Record<string, unknown>;
}

export interface HttpDeps {
  readonly router: Router;
  readonly metrics: NodeMetrics;
  readonly maxFrame: number;
  /** The edge's bounds on a message's shape: the path's names and key, the idempotency key, the body's arguments. */
  readonly limits: WireLimits;
  readonly readiness: () => Readiness;
  /** Checks the request's credentials; returns the caller id, or an error to send. */
  /** Reads the request's credentials synchronously (uWS requests die with their callback), checks them maybe later. */
  readonly authenticate: (req: HttpRequest) => Promise<AuthResult> | AuthResult;
  /** Which web origins a browser lets call the API (`--allowed-origins`). */
  readonly cors: CorsPolicy;
  /** Gateway spans (--otel-endpoint); null: none. */
  readonly tracer: CallTracer | null;
}

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK', 204: '204 No Content', 403: '403 Forbidden', 400: '400 Bad Request', 401: '401 Unauthorized', 404: '404 Not Found', 405: '405 Method Not Allowed', 413: '413 Payload Too Large',
  422: '422 Unprocessable Entity', 429: '429 Too Many Requests', 503: '503 Service Unavailable', 504: '504 Gateway Timeout', 500: '500 Internal Server Error',
};

/** No CORS headers: one list for every answer, not an empty array each. */
const NO_HEADERS: HeaderList = Object.freeze([]) as unknown as HeaderList;
/** The usual answer's header, as bytes: uWS converts a string argument to UTF-8 on every call. */
const CONTENT_TYPE = Buffer.from('content-type');
const JSON_TYPE = 'application/json';
const JSON_TYPE_BYTES = Buffer.from(JSON_TYPE);

/** Wraps a uWS response so it is written at most once and never after the client went away. */
class HttpReply implements ReplySink {
  private done = false;
  /** `headers`: written on every answer (CORS), read from the request before its callback ended. */
  constructor(private readonly res: HttpResponse, private readonly headers: HeaderList = NO_HEADERS) {
    res.onAborted(() => {
      this.done = true;
    });
  }

  get aborted(): boolean {
    return this.done;
  }

  send(status: number, body: string, contentType = JSON_TYPE): void {
    if (this.done) return;
    this.done = true;
    const res = this.res;
    res.cork(() => {
      res.writeStatus(STATUS_TEXT[status] ?? `${status}`);
      for (const [name, value] of this.headers) res.writeHeader(name, value);
      if (status === 204) res.endWithoutBody();
      else res.writeHeader(CONTENT_TYPE, contentType === JSON_TYPE ? JSON_TYPE_BYTES : contentType).end(body);
    });
  }

  error(error: ErrorData): void {
    this.send(HTTP_STATUS[error.code] ?? 500, JSON.stringify({ code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) }));
  }

  deliver(_id: number | string, result: TurnResult): void {
    if (result[0] === 1) {
      let body: string;
      try {
        // The same text as stringifying { value }, without the object: a result is decoded
        // msgpack (plain data), so its JSON is never undefined.
        body = `{"value":${result[1] === undefined ? 'null' : JSON.stringify(result[1])}}`;
      } catch {
        this.error({ code: 'E_ACTOR_FAILED', message: 'the result cannot be represented as JSON' });
        return;
      }
      this.send(200, body);
    } else {
      this.error(result[1]);
    }
  }
}

/**
 * Reads a request's body and gives it to `onBody`, which must be done with it
 * when it returns: a body that came in one chunk (nearly every call's) is a
 * view of uWS's memory, reused after the callback, so it is read in place,
 * not copied. Chunks before the last are copied.
 */
function readBody(res: HttpResponse, max: number, reply: HttpReply, onBody: (body: Buffer) => void): void {
  let chunks: Buffer[] | null = null;
  let size = 0;
  res.onData((chunk, isLast) => {
    if (reply.aborted) return;
    size += chunk.byteLength;
    if (size > max) {
      reply.error({ code: 'E_TOO_LARGE', message: `request body exceeds the maximum of ${max} bytes (--max-frame)` });
      return;
    }
    if (isLast && chunks === null) {
      onBody(Buffer.from(chunk));
      return;
    }
    (chunks ??= []).push(Buffer.from(chunk.slice(0)));
    if (isLast) onBody(Buffer.concat(chunks));
  });
}

function param(req: HttpRequest, i: number): string | null {
  const raw = req.getParameter(i);
  if (raw === undefined) return null;
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** HTTP side of the gateway: actor calls, health probes and metrics. */
export function addHttpRoutes(app: TemplatedApp, deps: HttpDeps): void {
  const corsOf = (req: HttpRequest): HeaderList => (deps.cors.enabled ? deps.cors.responseHeaders(req.getHeader('origin')) : NO_HEADERS);

  app.post('/v1/actors/:type/:key/:method', (res, req) => {
    const reply = new HttpReply(res, corsOf(req));
    const refuse = (error: ErrorData): void => {
      deps.metrics.recordError(error.code);
      reply.error(error);
    };
    const type = param(req, 0);
    const key = param(req, 1);
    const method = param(req, 2);
    const idem = req.getHeader('idempotency-key');
    // W3C trace context; a malformed one is ignored, as on the WebSocket (protocol/wire.ts).
    const traceHeader = req.getHeader('traceparent');
    const clientParent = isTraceparent(traceHeader) ? traceHeader : undefined;
    const startAt = deps.tracer === null ? 0 : performance.now();
    const timeoutHeader = req.getHeader('x-troupe-timeout');
    const length = Number(req.getHeader('content-length') || '0');
    const auth = deps.authenticate(req);
    if (type === null || key === null || method === null) {
      refuse({ code: 'E_BAD_REQUEST', message: 'actor type, key and method in the path must be valid URL-encoded strings' });
      return;
    }
    // The same checks as a WebSocket call's fields (lengths against --max-key), before any of the body is read.
    const fields = parseClientMessage({ op: 'call', id: 0, actor: type, key, method, ...(idem === '' ? {} : { idem }) }, deps.limits);
    if (isRejected(fields)) {
      refuse(fields.error);
      return;
    }
    if (length > deps.maxFrame) {
      refuse({ code: 'E_TOO_LARGE', message: `request body of ${length} bytes exceeds the maximum of ${deps.maxFrame} bytes (--max-frame)` });
      return;
    }
    const timeoutMs = timeoutHeader === '' ? undefined : Number(timeoutHeader);
    if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
      refuse({ code: 'E_BAD_REQUEST', message: `x-troupe-timeout must be milliseconds between 1 and ${MAX_TIMEOUT_MS}` });
      return;
    }
    readBody(res, deps.maxFrame, reply, (body) => {
      const decoded = decodeJsonArgs(body, deps.limits);
      if ('error' in decoded) {
        refuse(decoded.error);
        return;
      }
      const args = decoded.args;
      const route = (who: AuthResult): void => {
        if ('error' in who) {
          reply.error(who.error);
          return;
        }
        const idemKey = idem === '' ? null : idem;
        if (deps.tracer === null && clientParent === undefined) {
          // The usual call: to the router as fields, no request object (as the WebSocket's plain calls).
          deps.router.callFields(type, key, method, args, idemKey, who.caller, timeoutMs, reply, 0);
          return;
        }
        const call: CallRequest = { type, key, method, args, idem: idemKey, caller: who.caller, timeoutMs };
        if (deps.tracer !== null) {
          const { req: traced, span } = gatewaySpan(deps.tracer, call, clientParent, startAt);
          deps.router.call(traced, new GatewaySpanSink(span, reply), 0);
        } else {
          deps.router.call({ ...call, traceparent: clientParent }, reply, 0);
        }
      };
      // A synchronous authenticator's answer (the built-in ones) is used at once, not a microtask later;
      // an async one's when it settles (the reply is corked and dropped if the client went away meanwhile).
      if (auth instanceof Promise) void auth.then(route);
      else route(auth);
    });
  });

  app.get('/health/live', (res, req) => {
    new HttpReply(res, corsOf(req)).send(200, '{"status":"live"}');
  });

  app.get('/health/ready', (res, req) => {
    const r = deps.readiness();
    new HttpReply(res, corsOf(req)).send(r.ready ? 200 : 503, JSON.stringify({ status: r.ready ? 'ready' : 'not ready', ...r.details }));
  });

  app.get('/metrics', (res) => {
    const reply = new HttpReply(res);
    deps.metrics.text().then(
      (text) => reply.send(200, text, deps.metrics.contentType),
      () => reply.send(500, '{"code":"E_UNAVAILABLE","message":"metrics could not be collected"}'),
    );
  });

  // A browser asks before a page of another origin may POST JSON or send an authorization header.
  app.options('/*', (res, req) => {
    const url = req.getUrl();
    const methods = url.startsWith('/v1/actors/') ? ['POST'] : ['/health/live', '/health/ready'].includes(url) ? ['GET'] : [];
    if (methods.length === 0) {
      new HttpReply(res, corsOf(req)).send(404, JSON.stringify({ code: 'E_BAD_REQUEST', message: `no route ${url}` }));
      return;
    }
    const answer = deps.cors.preflight(req.getHeader('origin'), req.getHeader('access-control-request-method'), methods);
    if (answer.status === 204) new HttpReply(res, answer.headers).send(204, '');
    else new HttpReply(res).send(403, JSON.stringify({ code: 'E_BAD_REQUEST', message: answer.message }));
  });

  app.any('/*', (res, req) => {
    const reply = new HttpReply(res, corsOf(req));
    const known = ['/health/live', '/health/ready', '/metrics'].includes(req.getUrl()) || req.getUrl().startsWith('/v1/actors/');
    if (known) reply.send(405, JSON.stringify({ code: 'E_BAD_REQUEST', message: `method ${req.getMethod().toUpperCase()} is not allowed here` }));
    else reply.send(404, JSON.stringify({ code: 'E_BAD_REQUEST', message: `no route ${req.getUrl()}; calls go to POST /v1/actors/:type/:key/:method` }));
  });
}
