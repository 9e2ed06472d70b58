/**
 * This node's place in a cluster: who the members are (discovery), which of
 * them owns each actor (placement), and the links that carry calls, results
 * and events between them (transport).
 *
 * Calls for actors owned elsewhere are forwarded to the owner and always carry
 * an idempotency key (the client's, or one made here), so a call whose owner
 * died before answering can be sent again to the next owner: if the first
 * attempt committed, the grid record holds its key and the new owner answers
 * with the stored result instead of applying it twice.
 */
import { RETRYABLE_CODES } from '../../protocol/errors.js';
import type { Discovery, Member } from '../discovery/index.js';
import type { DeadlineWheel, Expirable } from '../deadline-wheel.js';
import { DISCARD, type ReplySink } from '../envelope.js';
import type { Logger } from '../log.js';
import type { TurnResult } from '../pool/protocol.js';
import type { CallRequest } from '../router.js';
import type { PeerAddress, Transport } from '../transport/transport.js';
import { isLinkMessage, LinkTag, type LinkMessage } from './link-protocol.js';
import { Placement } from './placement.js';
import { autoIdemKey } from '../record.js';
import { randomBytes } from 'node:crypto';

/** Re-sends of one forwarded call after retryable answers (E_UNAVAILABLE, E_OVERLOADED) from its owner. */
const MAX_PEER_RETRIES = 5;

/** What the cluster needs from the node. */
export interface ClusterHost {
  /** Runs a call on this node, whatever the placement says (the sender decided). */
  callLocal(req: CallRequest, sink: ReplySink, id: number | string): void;
  /** Routes a call again from the start (after a failed link): local or to the current owner. */
  route(req: CallRequest, sink: ReplySink, id: number | string): void;
  /** Ownership moved: drop cached records, hand mail for actors now owned elsewhere to `route`. */
  ownershipChanged(): void;
  /** An event published on another node, for this node's subscribers. */
  deliverEvent(topic: string, data: unknown): void;
  /** Topics with subscribers on this node. */
  localTopics(): readonly string[];
}

export interface ClusterOptions {
  readonly self: Member;
  readonly discovery: Discovery;
  readonly transport: Transport;
  readonly host: ClusterHost;
  readonly wheel: DeadlineWheel<Expirable>;
  readonly log: Logger;
  /** How long a call waits for its owner's replacement after the owner's link failed. */
  readonly limboMs: number;
}

/** A call sent to another node, until its answer (or its failure) comes back. */
class ForwardedCall implements Expirable {
  wheelSlot = 0;
  /** Re-sends after a retryable answer from the owner. */
  retries = 0;
  /** Peer it was last sent to; null while it waits for a new owner. */
  peer: string | null = null;
  constructor(
    readonly seq: number,
    readonly req: CallRequest & { idem: string },
    readonly sink: ReplySink,
    readonly sinkId: number | string,
    readonly deadline: number,
    readonly onExpire: (call: ForwardedCall) => void,
  ) {}

  expire(): void {
    this.onExpire(this);
  }
}

/** Answers to calls from a peer go back to that peer. */
class PeerSink implements ReplySink {
  constructor(private readonly cluster: Cluster, readonly peerId: string) {}
  deliver(id: number | string, result: TurnResult): void {
    this.cluster.sendTo(this.peerId, [LinkTag.Result, id as number, result]);
  }
}

export class Cluster {
  readonly placement: Placement;
  private readonly addresses = new Map<string, PeerAddress>();
  private readonly pending = new Map<number, ForwardedCall>();
  /** Calls whose owner's link failed, waiting for placement to name a new owner (or for the link to return). */
  private readonly limbo = new Set<ForwardedCall>();
  private readonly peerInterest = new Map<string, ReadonlySet<string>>();
  private readonly sinks = new Map<string, PeerSink>();
  private nextSeq = 1;
  /** Distinguishes this process's sequence numbers from a previous run of the same node id. */
  private readonly incarnation = randomBytes(4).toString('hex');
  private readonly limboTimer: NodeJS.Timeout;
  private interestScheduled = false;
  private leaving = false;
  private closed = false;
  /** Calls forwarded, for metrics. */
  forwarded = 0;

  constructor(private readonly o: ClusterOptions) {
    this.placement = new Placement(o.self.id);
    o.transport.onMessage((from, msg) => this.onMessage(from, msg));
    o.transport.onPeerDown((peer) => this.onPeerDown(peer));
    o.transport.onPeerUp((peer) => this.onPeerUp(peer));
    o.discovery.onChange((members) => this.onMembers(members));
    this.limboTimer = setInterval(() => this.retryLimbo(), 100);
    this.limboTimer.unref();
  }

  /** Registers with discovery and takes the first member list; the gateway must already answer /health/ready. */
  async start(): Promise<void> {
    await this.o.discovery.start(this.o.self);
    this.onMembers(this.o.discovery.members());
  }

  get selfId(): string {
    return this.o.self.id;
  }

  isLocal(type: string, key: string): boolean {
    return this.placement.isLocal(type, key);
  }

  owner(type: string, key: string): string {
    return this.placement.owner(type, key);
  }

  /** Sends a call to its owner; the answer comes back through `sink`. */
  forward(req: CallRequest, sink: ReplySink, sinkId: number | string): void {
    const seq = this.nextSeq++;
    // Made-up keys carry the sequence number, so the owner can drop them once acknowledged (see `ack`).
    const idem = req.idem ?? autoIdemKey(this.o.self.id, this.incarnation, seq);
    const timeout = req.timeoutMs ?? 10_000;
    const call = new ForwardedCall(seq, { ...req, idem }, sink, sinkId, Date.now() + timeout, (c) => this.expired(c));
    this.o.wheel.add(call, call.deadline);
    this.pending.set(call.seq, call);
    this.forwarded++;
    this.send(call);
  }

  forwardTell(req: CallRequest): void {
    const owner = this.placement.owner(req.type, req.key);
    const peer = this.addresses.get(owner);
    if (peer === undefined) return; // tells are at most once
    this.o.transport.send(peer, [LinkTag.Tell, req.type, req.key, req.method, req.args, req.caller ?? null]);
  }

  private send(call: ForwardedCall): void {
    const owner = this.placement.owner(call.req.type, call.req.key);
    if (owner === this.o.self.id) {
      // Ownership came back here while it waited: run it locally, same idem key.
      this.settleLocally(call);
      return;
    }
    const peer = this.addresses.get(owner);
    const remaining = call.deadline - Date.now();
    // Every call below the oldest one still pending has been answered: the owner may forget those keys.
    const ack = (this.pending.keys().next().value as number | undefined) ?? call.seq;
    const msg: LinkMessage = [LinkTag.Call, call.seq, call.req.type, call.req.key, call.req.method, call.req.args, call.req.idem, call.req.caller ?? null, Math.max(1, remaining), ack];
    if (peer !== undefined && this.o.transport.send(peer, msg)) {
      call.peer = owner;
      this.limbo.delete(call);
    } else {
      call.peer = null;
      this.limbo.add(call);
    }
  }

  private settleLocally(call: ForwardedCall): void {
    this.pending.delete(call.seq);
    this.limbo.delete(call);
    this.o.wheel.remove(call);
    const remaining = call.deadline - Date.now();
    this.o.host.callLocal({ ...call.req, timeoutMs: Math.max(1, remaining) }, call.sink, call.sinkId);
  }

  private expired(call: ForwardedCall): void {
    if (!this.pending.delete(call.seq)) return;
    this.limbo.delete(call);
    call.sink.deliver(call.sinkId, [0, { code: 'E_TIMEOUT', message: 'call did not complete within its deadline; the turn may still complete: retry with the same idem key to be safe' }]);
  }

  /** Sends a message to a peer by id (answers, events); dropped if the peer is unknown. */
  sendTo(peerId: string, msg: LinkMessage): void {
    const peer = this.addresses.get(peerId);
    if (peer !== undefined) this.o.transport.send(peer, msg);
  }

  /** An event committed on this node: to every peer with subscribers for it. */
  publish(topic: string, data: unknown): void {
    for (const [peerId, topics] of this.peerInterest) {
      if (topics.has(topic)) this.sendTo(peerId, [LinkTag.Event, topic, data]);
    }
  }

  /** Local subscriptions changed: tell every peer (once per tick). */
  interestChanged(): void {
    if (this.interestScheduled) return;
    this.interestScheduled = true;
    queueMicrotask(() => {
      this.interestScheduled = false;
      const topics = this.o.host.localTopics();
      for (const peerId of this.addresses.keys()) this.sendTo(peerId, [LinkTag.Interest, topics]);
    });
  }

  private onMessage(from: string, raw: unknown): void {
    if (this.closed) return;
    if (!isLinkMessage(raw)) {
      this.o.log.log('warn', 'link_bad_message', { peer: from });
      return;
    }
    switch (raw[0]) {
      case LinkTag.Call: {
        const [, id, type, key, method, args, idem, caller, ttlMs, ack] = raw;
        this.o.host.callLocal({ type, key, method, args, idem, caller, timeoutMs: ttlMs, ack }, this.sinkFor(from), id);
        return;
      }
      case LinkTag.Tell: {
        const [, type, key, method, args, caller] = raw;
        this.o.host.callLocal({ type, key, method, args, caller }, DISCARD, 0);
        return;
      }
      case LinkTag.Result: {
        const call = this.pending.get(raw[1]);
        // Only the peer it was sent to may answer: a late answer from an old owner is dropped (the call was re-sent).
        if (call === undefined || call.peer !== from) return;
        const result = raw[2];
        if (result[0] === 0 && RETRYABLE_CODES.has(result[1].code) && this.retryLater(call)) return;
        this.pending.delete(call.seq);
        this.o.wheel.remove(call);
        call.sink.deliver(call.sinkId, raw[2]);
        return;
      }
      case LinkTag.Event:
        this.o.host.deliverEvent(raw[1], raw[2]);
        return;
      case LinkTag.Interest:
        this.peerInterest.set(from, new Set(raw[1]));
        return;
    }
  }

  /**
   * The owner was overloaded or could not reach the grid: send the call again
   * after a backoff with jitter, with the same idem key, while its deadline
   * allows. Never for E_ACTOR_FAILED: that is the handler's answer.
   */
  private retryLater(call: ForwardedCall): boolean {
    if (call.retries >= MAX_PEER_RETRIES) return false;
    const delay = Math.min(1000, 25 * 2 ** call.retries) * (0.5 + Math.random());
    if (Date.now() + delay >= call.deadline) return false;
    call.retries++;
    call.peer = null;
    setTimeout(() => {
      if (this.pending.has(call.seq) && !this.closed) this.send(call);
    }, delay).unref();
    return true;
  }

  private sinkFor(peerId: string): PeerSink {
    let sink = this.sinks.get(peerId);
    if (sink === undefined) {
      sink = new PeerSink(this, peerId);
      this.sinks.set(peerId, sink);
    }
    return sink;
  }

  private onPeerDown(peerId: string): void {
    // Whatever was sent to it may or may not have run: wait for its replacement (or its return), then send again.
    for (const call of this.pending.values()) {
      if (call.peer === peerId) {
        call.peer = null;
        this.limbo.add(call);
      }
    }
    this.o.log.log('warn', 'peer_down', { peer: peerId, waiting: this.limbo.size });
  }

  private onPeerUp(peerId: string): void {
    this.o.log.log('info', 'peer_up', { peer: peerId });
    this.sendTo(peerId, [LinkTag.Interest, this.o.host.localTopics()]);
    this.retryLimbo();
  }

  private onMembers(members: readonly Member[]): void {
    if (this.closed) return;
    const ids = members.map((m) => m.id);
    for (const m of members) {
      if (m.id !== this.o.self.id) this.addresses.set(m.id, { id: m.id, address: m.address, linkPort: m.linkPort });
    }
    for (const id of [...this.addresses.keys()]) {
      if (!ids.includes(id)) {
        this.addresses.delete(id);
        this.peerInterest.delete(id);
        this.sinks.delete(id);
        this.o.transport.forget(id);
        this.onPeerDown(id);
      }
    }
    // A leaving node owns nothing, even while discovery still lists it.
    const owners = this.leaving ? ids.filter((id) => id !== this.o.self.id) : ids.includes(this.o.self.id) ? ids : [...ids, this.o.self.id];
    const before = this.placement.memberIds.join(',');
    const change = this.placement.update(owners);
    if (before !== this.placement.memberIds.join(',')) {
      this.o.log.log('info', 'placement', { members: this.placement.memberIds, moved: change.moved, gained: change.gained.length, lost: change.lost.length });
      this.o.host.ownershipChanged();
      this.interestChanged();
    }
    this.retryLimbo();
  }

  private retryLimbo(): void {
    if (this.limbo.size === 0) return;
    for (const call of [...this.limbo]) {
      const owner = this.placement.owner(call.req.type, call.req.key);
      if (owner === this.o.self.id || this.o.transport.peerState(owner) !== 'down') this.send(call);
    }
  }

  /** Graceful drain: leave discovery and give up every shard; peers take over. */
  async leave(): Promise<void> {
    this.leaving = true;
    await this.o.discovery.leave();
    this.onMembers(this.o.discovery.members());
  }

  /** For /health/ready: who the members are and how many shards each owns. */
  summary(): { members: readonly string[]; shards: Record<string, number>; forwardedInflight: number; waitingForOwner: number } {
    return {
      members: this.placement.memberIds,
      shards: Object.fromEntries(this.placement.counts()),
      forwardedInflight: this.pending.size,
      waitingForOwner: this.limbo.size,
    };
  }

  /** Calls forwarded from this node still waiting for an answer. */
  get inflight(): number {
    return this.pending.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.limboTimer);
    for (const call of this.pending.values()) {
      this.o.wheel.remove(call);
      call.sink.deliver(call.sinkId, [0, { code: 'E_UNAVAILABLE', message: 'node stopped before the owner answered; retry with the same idem key' }]);
    }
    this.pending.clear();
    this.limbo.clear();
    await this.o.discovery.close();
    await this.o.transport.close();
  }
}
