/**
 * The snapshots `troupe top` draws: it opens the dashboard's own socket
 * (/dash/ws) on one node, which already reads every member's figures and
 * decides up/suspect/down, so top needs to reach that one node only. Keeps
 * the newest snapshot; after a lost connection it dials again once a second
 * until closed.
 */
import type { DashSnapshot } from './top-view.js';

type Socket = import('ws').WebSocket;

export class FeedError extends Error {
  override name = 'FeedError';
  constructor(message: string, readonly unauthorized: boolean) {
    super(message);
  }
}

const RETRY_MS = 1000;

export class DashFeed {
  /** The newest snapshot, null until one came. */
  latest: DashSnapshot | null = null;
  /** Snapshots received on the current connection. */
  received = 0;
  /** Why there is no live connection now (null while connected). */
  problem: string | null = null;
  private socket: Socket | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  private waiters: (() => void)[] = [];

  private constructor(private readonly url: string, private readonly base: string) {}

  /** Resolves once connected; rejects with a FeedError if the first attempt fails (a wrong URL should not spin). */
  static async open(base: string, token: string | null): Promise<DashFeed> {
    const ws = new URL('/dash/ws', base);
    ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
    if (token !== null) ws.searchParams.set('token', token);
    const feed = new DashFeed(ws.toString(), base);
    await feed.dial();
    return feed;
  }

  /** Until `n` snapshots arrived on this connection, or `timeoutMs` passed. */
  async waitFor(n: number, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.received < n && !this.closed && Date.now() < end) {
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, end - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          ok();
        });
      });
    }
  }

  close(): void {
    this.closed = true;
    if (this.retry !== null) clearTimeout(this.retry);
    this.socket?.terminate();
    this.socket = null;
    for (const w of this.waiters.splice(0)) w();
  }

  private async dial(): Promise<void> {
    const { WebSocket } = await import('ws');
    await new Promise<void>((connected, failed) => {
      const s = new WebSocket(this.url, { handshakeTimeout: 5000 });
      let open = false;
      s.on('unexpected-response', (_req, res) => {
        const unauthorized = res.statusCode === 401;
        res.resume();
        s.terminate();
        failed(new FeedError(unauthorized
          ? `${this.base} wants a token: set TROUPE_TOKEN (a JWT signed with the nodes' TROUPE_AUTH_SECRET)`
          : `${this.base} answered HTTP ${res.statusCode} on /dash/ws; is it a Troupe node with the dashboard?`, unauthorized));
      });
      s.on('open', () => {
        open = true;
        this.socket = s;
        this.received = 0;
        this.problem = null;
        connected();
      });
      s.on('message', (data) => {
        try {
          this.latest = JSON.parse(String(data)) as DashSnapshot;
          this.received++;
        } catch {
          return; // not a snapshot: the next one will do
        }
        for (const w of this.waiters.splice(0)) w();
      });
      s.on('error', (err) => {
        const code = (err as { code?: string }).code;
        if (!open) failed(new FeedError(`cannot reach a node at ${this.base} (${code ?? err.message}); is one running? (--url)`, false));
      });
      s.on('close', () => {
        if (!open || this.closed) return;
        this.socket = null;
        this.problem = `lost the connection to ${this.base} at ${new Date().toISOString().slice(11, 19)}Z; dialling again every second`;
        this.scheduleRedial();
      });
    });
  }

  private scheduleRedial(): void {
    if (this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      // `problem` still says since when; a refused token is worth saying instead.
      this.dial().catch((err: unknown) => {
        if (err instanceof FeedError && err.unauthorized) this.problem = `${err.message}; dialling again every second`;
        this.scheduleRedial();
      });
    }, RETRY_MS);
  }
}
