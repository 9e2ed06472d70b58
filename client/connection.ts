/**
 * Keeps one socket open to one of the configured nodes: dials, times out
 * handshakes, fails over to the next URL, and backs off between rounds.
 * It knows nothing about calls; the client reacts to its events.
 */
import { TroupeError } from '../protocol/index.js';
import { backoffDelay } from './backoff.js';
import { ClientErrors } from './errors.js';
import type { Backoff, ClientState, ResolvedOptions } from './options.js';
import { loadTransport, type CloseInfo, type OpenSocket, type Socket } from './transport.js';

export interface ConnectionEvents {
  opened(socket: Socket): void;
  frame(data: Uint8Array | string): void;
  /** The open socket closed; a reconnect is under way unless `failed` follows. */
  dropped(): void;
  /** No more connections will be made: reconnecting is off or gave up, or the first connect failed. */
  failed(error: TroupeError): void;
}

/** Used for the first connect when the user turned reconnecting off: it is still bounded by connectTimeout. */
const INITIAL_BACKOFF: Backoff = { baseMs: 100, maxMs: 2000, attempts: Infinity };

export class Connection {
  state: ClientState = 'connecting';
  private transport: Promise<OpenSocket> | null = null;
  /** The socket being dialled or open; events from any other socket are stale and ignored. */
  private current: Socket | null = null;
  private open = false;
  private everOpened = false;
  /** Consecutive failed dials since the last open socket. */
  private failures = 0;
  private urlIndex = 0;
  private startedAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private closeWaiters: (() => void)[] = [];
  private firstOpen: { resolve: () => void; reject: (e: TroupeError) => void } | null = null;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly events: ConnectionEvents,
  ) {}

  /** Starts dialling; resolves at the first open socket, rejects once connectTimeout has passed without one. */
  start(): Promise<void> {
    this.startedAt = Date.now();
    const ready = new Promise<void>((resolve, reject) => (this.firstOpen = { resolve, reject }));
    // A dial can hang in its handshake; this bounds the whole first connect, however the dials go.
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (!this.everOpened) this.fail(ClientErrors.connectFailed(this.opts.urls, this.opts.connectTimeout));
    }, this.opts.connectTimeout);
    void this.dial();
    return ready;
  }

  /** Stops for good. Resolves once the socket has closed, or after a short bound. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.setState('closed');
    this.clearTimers();
    this.firstOpen?.reject(ClientErrors.closed());
    this.firstOpen = null;
    const socket = this.current;
    this.current = null;
    if (socket === null) return Promise.resolve();
    const wasOpen = this.open;
    this.open = false;
    socket.close();
    if (!wasOpen) return Promise.resolve();
    // Wait for the close handshake so the process can exit cleanly, but never for long.
    return new Promise((resolve) => {
      const t = setTimeout(resolve, 1000);
      this.closeWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  // A getter, because TypeScript narrows `this.state` across awaits and would call a later check impossible.
  private get closed(): boolean {
    return this.state === 'closed';
  }

  private setState(state: ClientState): void {
    if (this.state === state) return;
    this.state = state;
    try {
      this.opts.onStateChange(state);
    } catch (err) {
      this.report(err);
    }
  }

  private report(err: unknown): void {
    try {
      this.opts.onError(err instanceof Error ? err : new Error(String(err)));
    } catch {
      // A throwing error handler must not break the connection logic.
    }
  }

  private async dial(): Promise<void> {
    this.timer = null;
    if (this.closed) return;
    const url = this.opts.urls[this.urlIndex % this.opts.urls.length]!;
    let open: OpenSocket;
    try {
      this.transport ??= loadTransport(this.opts.WebSocket);
      open = await this.transport;
    } catch (err) {
      // No WebSocket implementation: retrying will not make one appear.
      const message = err instanceof Error ? err.message : String(err);
      return this.fail(new TroupeError('E_UNAVAILABLE', message, { cause: err }));
    }
    let token: string | undefined;
    try {
      token = typeof this.opts.token === 'function' ? await this.tokenWithin(this.opts.token, this.opts.timeout) : this.opts.token;
      if (token !== undefined && typeof token !== 'string') throw new TypeError('the token function must return a string');
    } catch (err) {
      if (this.closed) return;
      // A token function that failed once may work next time (a refresh service that was down).
      this.report(err);
      return this.dialFailed({ code: 1006, reason: 'token', unauthorized: false, error: err }, url);
    }
    if (this.closed) return;
    let socket: Socket | null = null;
    const events = {
      open: () => {
        if (socket !== this.current) return;
        this.onOpen(socket!);
      },
      frame: (data: Uint8Array | string) => {
        if (socket === this.current) this.events.frame(data);
      },
      close: (info: CloseInfo) => {
        if (socket !== this.current) {
          this.flushCloseWaiters();
          return;
        }
        this.onClose(info, url);
      },
    };
    try {
      socket = open(url, token, events);
    } catch (err) {
      return this.dialFailed({ code: 1006, reason: 'open', unauthorized: false, error: err }, url);
    }
    this.current = socket;
    this.handshakeTimer = setTimeout(() => {
      this.handshakeTimer = null;
      if (socket !== this.current || this.open) return;
      // Give up on this dial now rather than wait for the close event, which some sockets never send.
      this.current = null;
      socket!.close();
      this.dialFailed({ code: 1006, reason: 'handshake timeout', unauthorized: false }, url);
    }, this.opts.timeout);
  }

  /** A token function that never settles must not stall reconnecting forever. */
  private async tokenWithin(fn: () => string | Promise<string>, ms: number): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the token function did not return within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([fn(), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private onOpen(socket: Socket): void {
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.handshakeTimer = this.connectTimer = null;
    this.open = true;
    this.everOpened = true;
    this.failures = 0;
    this.setState('open');
    this.firstOpen?.resolve();
    this.firstOpen = null;
    this.events.opened(socket);
  }

  private onClose(info: CloseInfo, url: string): void {
    this.current = null;
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    if (!this.open) return this.dialFailed(info, url);
    this.open = false;
    this.events.dropped();
    if (this.opts.reconnect === null) return this.fail(ClientErrors.connectionLost());
    this.setState('reconnecting');
    // The node we were on may be gone: try the next one first.
    this.urlIndex++;
    this.timer = setTimeout(() => void this.dial(), backoffDelay(this.opts.reconnect, 0));
  }

  private dialFailed(info: CloseInfo, url: string): void {
    if (this.closed) return;
    this.failures++;
    this.urlIndex++;
    if (info.unauthorized) {
      const err = ClientErrors.unauthorized(url);
      // Before the first open, a refused token is a configuration error: stop and say so.
      if (!this.everOpened) return this.fail(err);
      this.report(err);
    }
    const policy = this.opts.reconnect ?? INITIAL_BACKOFF;
    if (!this.everOpened) {
      if (Date.now() - this.startedAt >= this.opts.connectTimeout) {
        return this.fail(ClientErrors.connectFailed(this.opts.urls, this.opts.connectTimeout, info.error));
      }
    } else if (this.failures >= policy.attempts) {
      return this.fail(ClientErrors.gaveUp(this.failures));
    }
    // Within a round, try the next URL at once (fast failover); back off between rounds.
    const n = this.opts.urls.length;
    let delay = this.failures % n === 0 ? backoffDelay(policy, this.failures / n - 1) : 0;
    if (!this.everOpened) delay = Math.min(delay, Math.max(0, this.startedAt + this.opts.connectTimeout - Date.now()));
    this.timer = setTimeout(() => void this.dial(), delay);
  }

  private fail(err: TroupeError): void {
    if (this.closed) return;
    this.clearTimers();
    this.setState('closed');
    const socket = this.current;
    this.current = null;
    socket?.close();
    if (this.firstOpen !== null) {
      this.firstOpen.reject(err);
      this.firstOpen = null;
    }
    this.events.failed(err);
  }

  private clearTimers(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.timer = this.handshakeTimer = this.connectTimer = null;
  }

  private flushCloseWaiters(): void {
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const w of waiters) w();
  }
}
