import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { PeerAddress, PeerState, Transport } from '../transport.js';
import { MessageCodec, type TransientBytes } from './frame-codec.js';
import { newIncarnation } from './handshake.js';
import { Link, type LinkHost } from './link.js';
import { LinkError, NEUTRAL_CODES, type LinkErrorCode } from './link-errors.js';
import { Peer, type PeerHost } from './peer.js';
import { tieBreak } from './tie-break.js';
import { resolveTcpOptions, type ResolvedTcpOptions, type TcpTransportOptions } from './tcp-options.js';

/** Counters for metrics and tests; heartbeats are not frames here. */
export interface TcpTransportStats {
  framesSent: number;
  framesReceived: number;
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Links that finished the handshake (either side dialled). */
  linksOpened: number;
  /** Inbound connections dropped before or during the handshake (strangers, wrong secret, timeouts). */
  refused: number;
}

/** Down-link reasons that are part of normal life; anything else is logged as a warning. */
const ORDINARY_DOWN: ReadonlySet<LinkErrorCode> = new Set<LinkErrorCode>(['LINK_CLOSED', 'LINK_REPLACED', 'LINK_SHUTDOWN']);
/** close() waits this long for peers to acknowledge our FIN before cutting the rest. */
const CLOSE_GRACE_MS = 1000;

/**
 * Node-to-node links over TCP: one authenticated, bidirectional link per
 * peer pair, batched writes, reconnect with backoff, a breaker per peer.
 *
 * ONE LINK PER PAIR. Whoever needs the link first dials; when both dial at
 * once, the acceptor settles it inside the handshake, before data moves on
 * either connection (tie-break.ts). Chosen over "each node dials its own
 * outgoing connection" by `bench/link/link-bench.js ab` (two processes, 100 B
 * messages, 12 alternating 1 s windows, 2 cores shared with other work;
 * per-direction relative to one link, median of per-window ratios):
 *   rr, 1 in flight:     rate 0.90x, CPU/round trip 1.07x, TCP segments 1.34x
 *                        (16.2k vs 15.5k rt/s; 4.0 vs 5.4 segments: a socket
 *                        that only carries one direction sends bare ACKs)
 *   rr, 1000 in flight:  rate 1.03x, CPU 1.05x, segments 1.00x (372k vs 322k rt/s)
 *   both nodes clients:  rate 1.11x, CPU 1.01x, segments 1.04x (333k vs 344k rt/s)
 * So throughput is a draw within this machine's noise, one link is a little
 * cheaper per operation, and it needs one handshake before the first answer
 * instead of two (about 1.2 ms each here), half the sockets, and gives one
 * up/down state per peer instead of two half-links that can disagree. The
 * price is the tie-break, which is small and tested.
 *
 * BATCHING. Everything sent to a peer in one tick leaves as one frame on the
 * next microtask, corked into one writev; a reply to a batch goes out as one
 * frame too. `bench/link/link-bench.js table`, 1000 round trips in flight: 3.2 µs CPU,
 * 0.01 system calls and 0.01 segments per round trip batched, against 29 µs,
 * 2.0 and 4.3 with a frame per message (batching: false), and 5x to 17x the
 * rate. With one message in flight both cost the same (4 calls, 4 segments).
 *
 * `forget()` and `close()` emit no onPeerDown: the caller decided, and
 * handles what was in flight itself (the cluster layer does right after).
 */
export class TcpTransport implements Transport {
  readonly engine = 'tcp';
  /** Changes at every start: peers tell a restart of ours from a duplicate dial by it. */
  readonly incarnation = newIncarnation();
  private readonly options: ResolvedTcpOptions;
  private readonly codec = new MessageCodec();
  private readonly peers = new Map<string, Peer>();
  /** Inbound connections still in the handshake, oldest first (evicted first when full). */
  private readonly pending = new Set<Link>();
  private readonly messageHandlers: ((from: string, message: unknown) => void)[] = [];
  private readonly upHandlers: ((peerId: string) => void)[] = [];
  private readonly downHandlers: ((peerId: string) => void)[] = [];
  private readonly counters: TcpTransportStats = { framesSent: 0, framesReceived: 0, messagesSent: 0, messagesReceived: 0, bytesSent: 0, bytesReceived: 0, linksOpened: 0, refused: 0 };
  private readonly linkHost: LinkHost;
  private readonly peerHost: PeerHost;
  private readonly sweepTimer: NodeJS.Timeout;
  private server: Server | undefined;
  private closing: Promise<void> | undefined;
  /** Set first thing in close(): from then on no callback reconnects, emits or logs refusals. */
  private shut = false;
  private dirty: Peer[] = [];
  private flushScheduled = false;

  constructor(options: TcpTransportOptions) {
    const o = (this.options = resolveTcpOptions(options));
    this.linkHost = {
      nodeId: o.nodeId,
      secret: o.secret,
      auth: o.secret === null ? 'none' : 'hmac',
      incarnation: this.incarnation,
      maxFrame: o.maxFrame,
      handshakeTimeoutMs: o.handshakeTimeoutMs,
      codec: this.codec,
      decide: (link) => this.decide(link),
      opened: (link) => this.opened(link),
      frame: (link, body) => this.frame(link, body),
      closed: (link, reason) => this.closed(link, reason),
    };
    this.peerHost = {
      options: o,
      isClosed: () => this.shut,
      dial: (_peer, address) => new Link(connect({ host: address.address, port: address.linkPort }), 'dialer', this.linkHost, address),
      scheduleFlush: (peer) => this.scheduleFlush(peer),
    };
    this.sweepTimer = setInterval(() => this.sweep(), o.heartbeatMs).unref();
    if (o.secret === null) this.options.log('warn', 'link.insecure', { message: 'cluster links are not authenticated: anything that reaches the link port can join' });
  }

  async listen(host: string, port: number): Promise<number> {
    if (this.shut) throw new Error('transport is closed');
    if (this.server !== undefined) throw new Error('transport is already listening');
    const server = (this.server = createServer({ noDelay: true }, (socket) => this.accept(socket)));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      // EADDRINUSE and friends keep their code; the caller may listen again on another port.
      this.server = undefined;
      throw err;
    }
    server.on('error', (err: Error) => this.options.log('error', 'link.server_error', { message: err.message }));
    const bound = (server.address() as AddressInfo).port;
    this.options.log('info', 'link.listening', { host, port: bound, auth: this.linkHost.auth });
    return bound;
  }

  /** Throws a TypeError for a message msgpack cannot carry, a peer address that is no address, or a send to this node itself. */
  send(peer: PeerAddress, message: unknown): boolean {
    if (this.shut) return false;
    if (peer.id === this.options.nodeId) throw new TypeError('a transport does not send to its own node');
    let p = this.peers.get(peer.id);
    if (p === undefined) {
      p = new Peer(peer.id, this.peerHost, this.options.log);
      this.peers.set(peer.id, p);
    }
    if (p.address !== peer) {
      // Checked when it changes, not per message: the caller usually passes the same object.
      if (typeof peer.address !== 'string' || peer.address === '' || !Number.isInteger(peer.linkPort) || peer.linkPort < 1 || peer.linkPort > 65535) {
        throw new TypeError(`peer ${peer.id} has no valid link address (got ${JSON.stringify(peer.address)}:${String(peer.linkPort)})`);
      }
      p.address = peer;
    }
    if (p.refusing) return false;
    return this.enqueue(p, message);
  }

  sendOnLink(peerId: string, message: unknown): boolean {
    if (this.shut) return false;
    const p = this.peers.get(peerId);
    if (p === undefined || p.link === undefined) return false;
    // With a link up, enqueue only schedules a flush on it: no dial, no address needed.
    return this.enqueue(p, message);
  }

  /** Encodes into the codec's buffer and queues a copy: the encoded bytes are valid only until the next encode. */
  private enqueue(p: Peer, message: unknown): boolean {
    let bytes: TransientBytes;
    try {
      bytes = this.codec.encodeTransient(message);
    } catch (err) {
      throw new TypeError(`message cannot be encoded as msgpack: ${(err as Error).message}`, { cause: err });
    }
    return p.enqueue(bytes, bytes.start, bytes.end);
  }

  onMessage(handler: (from: string, message: unknown) => void): void {
    this.messageHandlers.push(handler);
  }

  onPeerDown(handler: (peerId: string) => void): void {
    this.downHandlers.push(handler);
  }

  onPeerUp(handler: (peerId: string) => void): void {
    this.upHandlers.push(handler);
  }

  peerState(peerId: string): PeerState {
    return this.peers.get(peerId)?.state ?? 'down';
  }

  forget(peerId: string): void {
    const peer = this.peers.get(peerId);
    if (peer === undefined) return;
    // Out of the map first, so the link's close callback finds nothing to reconnect or report.
    this.peers.delete(peerId);
    peer.dispose();
    this.options.log('info', 'link.forgotten', { peer: peerId });
  }

  /** Flushes what this tick queued, ends every link (FIN after the data), and stops all timers. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.flushAll();
    this.shut = true;
    clearInterval(this.sweepTimer);
    const sockets = [...this.peers.values()].flatMap((p) => (p.link === undefined ? [] : [p.link.socket]));
    for (const link of this.pending) link.close(new LinkError('LINK_SHUTDOWN', 'transport closed'));
    this.pending.clear();
    for (const peer of this.peers.values()) peer.dispose(true);
    this.peers.clear();
    this.dirty = [];
    this.closing = Promise.all([endSockets(sockets), new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())))]).then(() => undefined);
    return this.closing;
  }

  stats(): Readonly<TcpTransportStats> {
    return { ...this.counters };
  }

  private accept(socket: Socket): void {
    if (this.shut) {
      socket.destroy();
      return;
    }
    if (this.pending.size >= this.options.maxPendingHandshakes) {
      // Legitimate handshakes finish in milliseconds: the oldest pending one is the likeliest slowloris.
      const oldest = this.pending.values().next().value!;
      oldest.close(new LinkError('LINK_EVICTED', 'too many connections in the handshake; dropped the oldest'));
    }
    this.pending.add(new Link(socket, 'acceptor', this.linkHost));
  }

  /** Acceptor side of the tie-break (tie-break.ts); runs after the dialer's proof checked out. */
  private decide(link: Link): 'accept' | 'duplicate' {
    const peer = this.peers.get(link.peerId!);
    const outcome = tieBreak(this.options.nodeId, link.peerId!, link.peerIncarnation!, {
      linkedIncarnation: peer?.link?.peerIncarnation,
      dialling: peer?.dial !== undefined,
    });
    if (outcome === 'duplicate') return 'duplicate';
    if (outcome === 'replace-link') peer!.link!.close(new LinkError('LINK_REPLACED', 'the peer restarted and dialled again'));
    if (outcome === 'supersede-ours') peer!.abandonDial();
    return 'accept';
  }

  private opened(link: Link): void {
    this.pending.delete(link);
    const id = link.peerId!;
    let peer = this.peers.get(id);
    if (peer === undefined) {
      peer = new Peer(id, this.peerHost, this.options.log);
      this.peers.set(id, peer);
    } else if (peer.link !== undefined) {
      // The tie-break makes this unreachable; if it ever is, keep the link that carries traffic.
      link.close(new LinkError('LINK_DUPLICATE', 'already linked to this peer'));
      return;
    }
    peer.adopt(link);
    this.counters.linksOpened++;
    this.options.log('info', 'link.up', { peer: id, dialled: link.role === 'dialer' ? 'by us' : 'by peer', remote: link.remote });
    this.emit(this.upHandlers, id);
  }

  private frame(link: Link, body: Buffer): void {
    const messages = this.codec.decodeBatch(body);
    const c = this.counters;
    c.framesReceived++;
    c.messagesReceived += messages.length;
    c.bytesReceived += body.length + 4;
    const from = link.peerId!;
    const handlers = this.messageHandlers;
    for (let i = 0; i < messages.length && !link.isClosed; i++) {
      for (let h = 0; h < handlers.length; h++) {
        try {
          handlers[h]!(from, messages[i]);
        } catch (err) {
          this.options.log('error', 'link.handler_failed', { peer: from, message: (err as Error)?.message });
        }
      }
    }
  }

  private closed(link: Link, reason: LinkError): void {
    this.pending.delete(link);
    if (this.shut) return;
    const id = link.peerId;
    const peer = id === undefined ? undefined : this.peers.get(id);
    if (peer !== undefined && peer.link === link) {
      this.options.log(ORDINARY_DOWN.has(reason.code) ? 'info' : 'warn', 'link.down', { peer: id, reason: reason.code, message: reason.message });
      peer.lost();
      this.emit(this.downHandlers, id!);
      return;
    }
    if (peer !== undefined && peer.dial?.link === link) {
      peer.dialEnded(link, reason);
      return;
    }
    if (link.role === 'acceptor' && !NEUTRAL_CODES.has(reason.code)) {
      this.counters.refused++;
      // `claimed`: an id from a hello whose proof never checked out; it may be a lie.
      this.options.log('warn', 'link.refused', { remote: link.remote, claimed: id, reason: reason.code, message: reason.message });
    }
  }

  private scheduleFlush(peer: Peer): void {
    if (peer.flushQueued) return;
    peer.flushQueued = true;
    if (!this.options.batching) {
      this.flushPeer(peer);
      return;
    }
    this.dirty.push(peer);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flushAll());
    }
  }

  private flushAll(): void {
    this.flushScheduled = false;
    const dirty = this.dirty;
    this.dirty = [];
    for (const peer of dirty) this.flushPeer(peer);
  }

  private flushPeer(peer: Peer): void {
    const out = peer.flush();
    if (out === undefined) return;
    this.counters.framesSent += out.result.frames;
    this.counters.messagesSent += out.messages;
    this.counters.bytesSent += out.result.bytes;
  }

  /** Heartbeats on quiet links; drops links on which nothing arrived for idleTimeoutMs. */
  private sweep(): void {
    const { heartbeatMs, idleTimeoutMs } = this.options;
    for (const peer of this.peers.values()) {
      const link = peer.link;
      if (link === undefined) continue;
      if (!link.wrote) link.heartbeat();
      link.wrote = false;
      if (link.heard) link.idleSweeps = 0;
      else if (++link.idleSweeps * heartbeatMs >= idleTimeoutMs) {
        link.close(new LinkError('LINK_IDLE', `nothing received for ${idleTimeoutMs} ms`));
        continue;
      }
      link.heard = false;
    }
  }

  private emit(handlers: readonly ((peerId: string) => void)[], peerId: string): void {
    for (const h of handlers) {
      try {
        h(peerId);
      } catch (err) {
        this.options.log('error', 'link.handler_failed', { peer: peerId, message: (err as Error)?.message });
      }
    }
  }
}

/** Waits for sockets we ended to close (the peer answers our FIN), then cuts whatever is left. */
async function endSockets(sockets: readonly Socket[]): Promise<void> {
  const open = sockets.filter((s) => !s.destroyed);
  if (open.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(open.map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())))),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
  ]);
  clearTimeout(timer);
  for (const s of open) s.destroy();
}
