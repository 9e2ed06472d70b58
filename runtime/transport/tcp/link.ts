import type { Socket } from 'node:net';
import type { PeerAddress } from '../transport.js';
import { FrameReader } from './frame-reader.js';
import { HEARTBEAT_FRAME, type MessageCodec } from './frame-codec.js';
import type { SendQueue, WriteResult } from './send-queue.js';
import { HANDSHAKE_MAX_FRAME, makeHello, parseAnswer, parseHello, parseProof, prove, verify, type AuthMode, type Hello, type Role } from './handshake.js';
import { LinkError } from './link-errors.js';

/** What a link needs from its transport; every callback runs synchronously, in socket order. */
export interface LinkHost {
  readonly nodeId: string;
  readonly secret: string | null;
  readonly auth: AuthMode;
  readonly incarnation: string;
  readonly maxFrame: number;
  readonly handshakeTimeoutMs: number;
  readonly codec: MessageCodec;
  /** Acceptor only: the dialer has proven itself; keep this link or turn it away (tie-break). */
  decide(link: Link): 'accept' | 'duplicate';
  /** Handshake done and the link kept: from here on frames are delivered. */
  opened(link: Link): void;
  /** A data frame (never a heartbeat) on an open link. May throw a LinkError to drop the link. */
  frame(link: Link, body: Buffer): void;
  /** Called once, whatever ended the link. */
  closed(link: Link, reason: LinkError): void;
}

type State = 'hello' | 'proof' | 'answer' | 'open' | 'closed';

/**
 * One TCP connection to one peer: handshake, then frames both ways.
 *
 * Until `opened`, only handshake messages are read, under a 2 KiB frame
 * limit and a deadline; anything unexpected closes the socket. Data frames
 * are read only in state `open`, which a link reaches only after the peer's
 * proof has been verified (and, for the dialer, after the acceptor's too).
 */
export class Link {
  private state: State;
  private readonly reader: FrameReader;
  private readonly own: Hello;
  private peer: Hello | undefined;
  private deadline: NodeJS.Timeout | undefined;
  /** A dialer's socket errors before 'connect' are connect failures; after, the link was refused or broke. */
  private connected: boolean;
  /** Set on every read/write; the transport's heartbeat sweep clears them. */
  heard = false;
  wrote = false;
  idleSweeps = 0;
  /** Frame limit of the peer (from its hello); we never send bigger. */
  sendLimit = HANDSHAKE_MAX_FRAME;
  readonly remote: string;
  readonly expected: string | undefined;

  constructor(
    readonly socket: Socket,
    readonly role: Role,
    private readonly host: LinkHost,
    /** Dialer only: the node we meant to reach. */
    target?: PeerAddress,
  ) {
    this.expected = target?.id;
    this.state = 'hello';
    this.connected = role === 'acceptor';
    if (!this.connected) socket.once('connect', () => (this.connected = true));
    this.remote = target === undefined ? `${socket.remoteAddress}:${socket.remotePort}` : `${target.address}:${target.linkPort}`;
    socket.setNoDelay(true);
    this.reader = new FrameReader(HANDSHAKE_MAX_FRAME, (body) => this.onFrame(body));
    socket.on('data', (chunk: Buffer) => {
      this.heard = true;
      try {
        this.reader.push(chunk);
      } catch (err) {
        this.fail(err instanceof LinkError ? err : new LinkError('LINK_BAD_FRAME', 'frame handling failed', { cause: err }));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = this.connected ? 'LINK_CLOSED' : 'LINK_CONNECT_FAILED';
      this.fail(new LinkError(code, `${this.connected ? 'socket error' : 'connect failed'}: ${err.code ?? err.message}`, { cause: err }));
    });
    socket.on('end', () => this.fail(this.peerClosed()));
    socket.on('close', () => this.fail(this.peerClosed()));
    this.deadline = setTimeout(
      () => this.fail(new LinkError('LINK_HANDSHAKE_TIMEOUT', `handshake not finished within ${host.handshakeTimeoutMs} ms`)),
      host.handshakeTimeoutMs,
    );
    this.own = makeHello(host.nodeId, host.incarnation, host.auth, host.maxFrame, this.expected);
    socket.write(host.codec.frame(this.own));
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** The peer's id: for a dialer the node it dialled; for an acceptor claimed in the hello until the link is open, proven after. */
  get peerId(): string | undefined {
    return this.expected ?? this.peer?.id;
  }

  get peerIncarnation(): string | undefined {
    return this.peer?.inc;
  }

  /** Bytes accepted by write() that the kernel has not taken yet. */
  get backlog(): number {
    return this.socket.writableLength;
  }

  /** Writes (and empties) a peer's queue, as frames within the peer's limit. */
  write(queue: SendQueue): WriteResult {
    this.wrote = true;
    return queue.writeTo(this.socket, this.sendLimit);
  }

  heartbeat(): void {
    this.wrote = true;
    this.socket.write(HEARTBEAT_FRAME);
  }

  /** Ends the link for `reason` at once; `closed` runs before this returns. */
  close(reason: LinkError): void {
    this.fail(reason);
  }

  /** Like close(), but what was written still leaves before our FIN. */
  end(reason: LinkError): void {
    if (this.finish(reason)) this.socket.end();
  }

  private peerClosed(): LinkError {
    // A peer that drops us mid-handshake has most likely refused our proof: say so, without guessing further.
    return new LinkError('LINK_CLOSED', this.state === 'open' ? 'peer closed the connection' : 'peer closed the connection during the handshake (same secret and protocol?)');
  }

  private onFrame(body: Buffer): void {
    switch (this.state) {
      case 'open':
        if (body.length > 0) this.host.frame(this, body);
        return;
      case 'hello':
        return this.onHello(body);
      case 'proof':
        return this.onProof(body);
      case 'answer':
        return this.onAnswer(body);
      case 'closed':
        return;
    }
  }

  private onHello(body: Buffer): void {
    const hello = parseHello(this.host.codec.decode(body), this.role === 'dialer' ? 'acceptor' : 'dialer');
    this.peer = hello;
    if (hello.auth !== this.host.auth) throw new LinkError('LINK_AUTH_MODE', `peer auth mode is ${hello.auth}, ours is ${this.host.auth}`);
    if (hello.id === this.host.nodeId) throw new LinkError('LINK_SELF', 'peer claims our own node id');
    if (this.role === 'dialer') {
      if (hello.id !== this.expected) throw new LinkError('LINK_WRONG_PEER', `dialled ${this.expected}, reached ${hello.id}`);
      const mac = prove(this.host.secret, 'dialer', this.own, hello);
      this.socket.write(this.host.codec.frame({ t: 'proof', mac }));
      this.state = 'answer';
    } else {
      if (hello.to !== this.host.nodeId) throw new LinkError('LINK_WRONG_PEER', `peer dialled ${hello.to}, this is ${this.host.nodeId}`);
      this.state = 'proof';
    }
  }

  private onProof(body: Buffer): void {
    const peer = this.peer!;
    const proof = parseProof(this.host.codec.decode(body), 'proof');
    if (!verify(this.host.secret, 'dialer', peer, this.own, proof.mac)) throw new LinkError('LINK_AUTH_FAILED', 'dialer proof does not match the shared secret');
    if (this.host.decide(this) === 'duplicate') {
      // Tell the dialer so it waits for the other link instead of counting a failure.
      this.finish(new LinkError('LINK_DUPLICATE', 'a link with this peer exists or is being made'));
      this.socket.end(this.host.codec.frame({ t: 'reject', reason: 'duplicate' }), () => this.socket.destroy());
      return;
    }
    const mac = prove(this.host.secret, 'acceptor', peer, this.own);
    this.socket.write(this.host.codec.frame({ t: 'accept', mac }));
    this.open();
  }

  private onAnswer(body: Buffer): void {
    const answer = parseAnswer(this.host.codec.decode(body));
    if (answer.t === 'reject') throw new LinkError('LINK_DUPLICATE', 'peer keeps another link with us');
    if (!verify(this.host.secret, 'acceptor', this.own, this.peer!, answer.mac)) throw new LinkError('LINK_AUTH_FAILED', 'acceptor proof does not match the shared secret');
    this.open();
  }

  private open(): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
    this.state = 'open';
    this.reader.limit = this.host.maxFrame;
    this.sendLimit = this.peer!.maxFrame;
    this.host.opened(this);
  }

  /** Marks the link closed and tells the host, once; the caller disposes of the socket. */
  private finish(reason: LinkError): boolean {
    if (this.state === 'closed') return false;
    this.state = 'closed';
    clearTimeout(this.deadline);
    this.deadline = undefined;
    this.reader.stop();
    this.host.closed(this, reason);
    return true;
  }

  private fail(reason: LinkError): void {
    if (this.finish(reason)) this.socket.destroy();
  }
}
