/**
 * The client edge of a node: one uWebSockets.js server for WebSocket (wire
 * protocol v1 at /v1/ws) and HTTP (calls, health, metrics).
 */
import uws from 'uWebSockets.js';
import type { TemplatedApp, us_listen_socket, WebSocket } from 'uWebSockets.js';
import { WS_PATH } from '../../protocol/wire.js';
import type { Logger } from '../log.js';
import type { NodeMetrics } from '../metrics/node-metrics.js';
import type { Router } from '../router.js';
import type { TopicHub } from '../topics.js';
import { ClientConnection, type ConnectionOwner, type SocketData } from './client-connection.js';
import { FrameHandler } from './frame-handler.js';
import { addHttpRoutes, type Readiness } from './http-routes.js';
import { assertNativeUws } from './native-uws.js';
import { presentedToken, type AuthResult, type Authenticator } from './auth.js';

export interface GatewayOptions {
  readonly host: string;
  readonly port: number;
  readonly maxFrame: number;
  readonly maxBatch: number;
  readonly maxInflight: number;
  readonly maxConnections: number;
  readonly rateLimit: number;
  readonly router: Router;
  readonly topics: TopicHub;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  readonly readiness: () => Readiness;
  readonly auth: Authenticator;
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
  port = 0;

  constructor(private readonly o: GatewayOptions) {
    assertNativeUws();
    this.cutOff = cutOffBytes(o.maxFrame);
    this.frames = new FrameHandler(o.router, o.topics, o.metrics, o);
    this.app = uws.App();
    this.app.ws<SocketData>(WS_PATH, {
      // uWS closes (1006) on frames past this; up to it we answer E_TOO_LARGE and keep the socket.
      maxPayloadLength: Math.min(o.maxFrame * 2, o.maxFrame + 64 * 1024 * 1024),
      // Never drop an answer silently: if this is ever reached, the socket closes instead.
      // The gateway's own cut-off (below it) normally acts first, with a clear close code.
      maxBackpressure: 2 * cutOffBytes(o.maxFrame),
      closeOnBackpressureLimit: 1,
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
        const who = o.auth.verify(token);
        if (!(who instanceof Promise)) {
          upgrade(who);
          return;
        }
        let aborted = false;
        res.onAborted(() => {
          aborted = true;
        });
        void who.then((result) => {
          if (!aborted) res.cork(() => upgrade(result));
        });
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
    addHttpRoutes(this.app, {
      router: o.router,
      metrics: o.metrics,
      maxFrame: o.maxFrame,
      readiness: o.readiness,
      authenticate: (req) => o.auth.verify(presentedToken(req.getHeader('authorization'), '')),
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
        this.port = uws.us_socket_local_port(socket);
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
    // Answers produced in one callback (a task's results, a commit batch) leave as one frame per connection.
    queueMicrotask(() => this.flush());
  }

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
      uws.us_listen_socket_close(this.listenSocket);
      this.listenSocket = null;
    }
    this.flush();
    for (const conn of this.connections) conn.close(1001, 'node is shutting down');
    this.connections.clear();
  }
}
