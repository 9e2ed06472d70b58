/**
 * The client edge of a node: one uWebSockets.js server for WebSocket (wire
 * protocol v1 at /v1/ws) and HTTP (calls, health, metrics).
 */
import type { TemplatedApp, us_listen_socket, WebSocket } from 'uWebSockets.js';
import type { WireLimits } from '../../protocol/limits.js';
import { WS_PATH } from '../../protocol/wire.js';
import type { Logger } from '../log.js';
import type { NodeMetrics } from '../metrics/node-metrics.js';
import type { Router } from '../router.js';
import type { TopicHub } from '../topics.js';
import { ClientConnection, type ConnectionOwner, type SocketData } from './client-connection.js';
import { CorsPolicy } from './cors.js';
import { FrameHandler } from './frame-handler.js';
import { addHttpRoutes, type Readiness } from './http-routes.js';
import { loadNativeUws, type UwsModule } from './native-uws.js';
import { presentedToken, whenVerified, type AuthResult, type Authenticator } from './auth.js';
import { addDashboardRoutes, type DashRoutesDeps } from '../dashboard/dash-routes.js';
import type { CallTracer } from '../tracing/call-tracer.js';

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly maxFrame: number;
  readonly maxBatch: number;
  /** Bounds on one message's shape, checked as frames and HTTP bodies are decoded. */
  readonly limits: WireLimits;
  readonly maxInflight: number;
  readonly maxConnections: number;
  readonly rateLimit: number;
  readonly router: Router;
  readonly topics: TopicHub;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  readonly readiness: () => Readiness;
  readonly auth: Authenticator;
  /** Web origins whose pages may call the HTTP API (`--allowed-origins`); empty: none. */
  readonly allowedOrigins: readonly string[];
  /** The live dashboard at /dash (runtime/dashboard/); none when omitted. */
  readonly dashboard?: Omit<DashRoutesDeps, 'auth' | 'recordError'>;
  /** Gateway spans (--otel-endpoint); none when omitted. */
  readonly tracer?: CallTracer | null;
}

// Past this many buffered bytes a client is treated as not reading: its new frames wait.
const CONGESTED_BYTES = 4 * 1024 * 1024;
const RESUME_BYTES = 1024 * 1024;
// Answers to calls already accepted still have to go somewhere: past this many
// buffered bytes the client is cut off (its calls still commit; it may retry them with their idem keys).
const cutOffBytes = (maxFrame: number): number => Math.max(8 * 1024 * 1024, 4 * maxFrame);
// WebSocket close code 1013: try again later.
const CLOSE_TRY_LATER = 1013;

export class Gateway implements ConnectionOwner {
  private readonly app: TemplatedApp;
  private listenSocket: us_listen_socket | null = null;
  private readonly connections = new Set<ClientConnection>();
  private dirty: ClientConnection[] = [];
  private flushScheduled = false;
  private readonly frames: FrameHandler;
  private accepting = true;
  private readonly cutOff: number;
  private readonly uws: UwsModule;
  port = 0;

  constructor(private readonly o: GatewayOptions) {
    // Throws NativeUwsError (one line: why, and what to do) where no native build loads.
    this.uws = loadNativeUws();
    const uws = this.uws;
    this.cutOff = cutOffBytes(o.maxFrame);
    this.frames = new FrameHandler(o.router, o.topics, o.metrics, { ...o.limits, maxFrame: o.maxFrame, maxBatch: o.maxBatch, maxInflight: o.maxInflight, rateLimit: o.rateLimit }, o.tracer ?? null);
    this.app = uws.App();
    this.app.ws<SocketData>(WS_PATH, {
      // uWS closes (1006) on frames past this; up to it we answer E_TOO_LARGE and keep the socket.
      maxPayloadLength: Math.min(o.maxFrame * 2, o.maxFrame + 64 * 1024 * 1024),
      // Never drop an answer silently: if this is ever reached, the socket closes instead.
      // The gateway's own cut-off (below it) normally acts first, with a clear close code.
      maxBackpressure: 2 * cutOffBytes(o.maxFrame),
      closeOnBackpressureLimit: true,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        if (!this.accepting) {
          res.writeStatus('503 Service Unavailable').end('{"code":"E_UNAVAILABLE","message":"node is draining; connect to another node"}');
          return;
        }
        if (this.connections.size >= o.maxConnections) {
          o.metrics.recordError('E_OVERLOADED');
          res.writeStatus('503 Service Unavailable').end(`{"code":"E_OVERLOADED","message":"node has ${this.connections.size} connections, the maximum (--max-connections)"}`);
          return;
        }
        // uWS's request object dies with this callback: read everything before any await.
        const key = req.getHeader('sec-websocket-key');
        const protocol = req.getHeader('sec-websocket-protocol');
        const extensions = req.getHeader('sec-websocket-extensions');
        const token = presentedToken(req.getHeader('authorization'), req.getQuery() ?? '');
        const upgrade = (who: AuthResult): void => {
          if ('error' in who) {
            o.metrics.recordError(who.error.code);
            res.writeStatus('401 Unauthorized').writeHeader('content-type', 'application/json').end(JSON.stringify({ code: who.error.code, message: who.error.message }));
            return;
          }
          res.upgrade<SocketData>({ conn: null, caller: who.caller }, key, protocol, extensions, context);
        };
        whenVerified(res, o.auth.verify(token), upgrade);
      },
      open: (ws) => {
        const data = ws.getUserData();
        data.conn = new ClientConnection(ws, this, data.caller);
        this.connections.add(data.conn);
      },
      message: (ws, frame, binary) => this.onFrame(ws, frame, binary),
      drain: (ws) => this.onDrain(ws),
      close: (ws) => {
        const conn = ws.getUserData().conn;
        if (conn === null) return;
        conn.detach();
        this.connections.delete(conn);
        o.topics.unsubscribeAll(conn);
      },
    });
    if (o.dashboard !== undefined) addDashboardRoutes(this.app, { ...o.dashboard, auth: o.auth, recordError: (code) => o.metrics.recordError(code) });
    addHttpRoutes(this.app, {
      router: o.router,
      metrics: o.metrics,
      maxFrame: o.maxFrame,
      limits: o.limits,
      readiness: o.readiness,
      cors: new CorsPolicy(o.allowedOrigins),
      authenticate: (req) => o.auth.verify(presentedToken(req.getHeader('authorization'), '')),
      tracer: o.tracer ?? null,
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(this.o.host, this.o.port, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${this.o.host}:${this.o.port} (port in use?)`));
          return;
        }
        this.listenSocket = socket;
        this.port = this.uws.us_socket_local_port(socket);
        resolve(this.port);
      });
    });
  }

  private onFrame(ws: WebSocket<SocketData>, frame: ArrayBuffer, binary: boolean): void {
    const conn = ws.getUserData().conn;
    if (conn === null) return;
    if (conn.congested) {
      // Stop taking work from a client that does not read its answers; hold a bounded amount, then cut it off.
      if (conn.parkedBytes + frame.byteLength > this.o.maxFrame * 2 || conn.parked.length >= 1024) {
        this.cutOffSlowClient(conn);
        return;
      }
      conn.parked.push({ frame: frame.slice(0), binary });
      conn.parkedBytes += frame.byteLength;
      return;
    }
    this.frames.handle(conn, frame, binary);
  }

  private onDrain(ws: WebSocket<SocketData>): void {
    const conn = ws.getUserData().conn;
    if (conn === null || !conn.congested || ws.getBufferedAmount() > RESUME_BYTES) return;
    conn.congested = false;
    while (conn.parked.length > 0 && !conn.congested && !conn.closed) {
      const { frame, binary } = conn.parked.shift()!;
      conn.parkedBytes -= frame.byteLength;
      this.frames.handle(conn, frame, binary);
    }
  }

  private cutOffSlowClient(conn: ClientConnection): void {
    this.o.log.log('warn', 'client_too_slow', { buffered: conn.bufferedAmount(), parked: conn.parked.length });
    conn.close(CLOSE_TRY_LATER, 'client is not reading its answers');
    // Stop producing for it at once: uWS only reports the close once the socket is gone.
    conn.detach();
  }

  markDirty(conn: ClientConnection): void {
    this.dirty.push(conn);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // With calls still in flight on the connection, once per event-loop turn, not per callback:
    // the answers of every task that came back in one poll phase leave as one frame per
    // connection, so the client wakes once for them, not once per task (1000 in flight, 6
    // interleaved pairs: calls per server CPU-second ~106k -> ~122k). A connection with nothing
    // more to wait for gets its answer at once (a microtask), as a lone call should.
    if (conn.inflight === 0) queueMicrotask(this.flushNow);
    else setImmediate(this.flushNow);
  }

  private readonly flushNow = (): void => this.flush();

  /** Sends every connection's pending answers, one frame each. */
  private flush(): void {
    this.flushScheduled = false;
    const dirty = this.dirty;
    this.dirty = [];
    for (const conn of dirty) {
      const buffered = conn.flush();
      if (buffered > CONGESTED_BYTES) conn.congested = true;
      if (buffered > this.cutOff) this.cutOffSlowClient(conn);
    }
  }

  /** Stops accepting new connections (drain); existing ones keep working. */
  stopAccepting(): void {
    this.accepting = false;
  }

  async close(): Promise<void> {
    this.accepting = false;
    if (this.listenSocket !== null) {
      this.uws.us_listen_socket_close(this.listenSocket);
      this.listenSocket = null;
    }
    this.flush();
    for (const conn of this.connections) conn.close(1001, 'node is shutting down');
    this.connections.clear();
    // Closing the listen socket leaves kept-alive HTTP connections open, still answered by this
    // stopped node's routes (an embedded node stopped in a running program would go on answering
    // /health/live): the app's close ends every socket it still has.
    this.app.close();
  }
}
