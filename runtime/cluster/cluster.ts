/**
 * This node's place in a cluster: who the members are (discovery), which of
 * them owns each actor (placement), and the links that carry calls, results
 * and events between them (transport). Calls for actors owned elsewhere go
 * through the call forwarder (call-forwarder.ts); events go to the peers that
 * want them (topic-interest.ts). This class wires them and reacts to
 * membership changes.
 */
import type { Discovery, Member } from '../discovery/index.js';
import type { DeadlineWheel, Expirable } from '../deadline-wheel.js';
import { DISCARD, type ReplySink } from '../envelope.js';
import type { Logger } from '../log.js';
import type { TurnResult } from '../pool/protocol.js';
import type { CallRequest } from '../router.js';
import type { PeerAddress, Transport } from '../transport/transport.js';
import { CallForwarder } from './call-forwarder.js';
import { isLinkMessage, LinkTag, type LinkMessage } from './link-protocol.js';
import type { CallTracer } from '../tracing/call-tracer.js';
import { Placement } from './placement.js';
import { ShardHandoff } from './shard-handoff.js';
import { TopicInterest } from './topic-interest.js';

/** What the cluster needs from the node. */
export interface ClusterHost {
  /** Runs a call on this node, whatever the placement says (the sender decided). */
  callLocal(req: CallRequest, sink: ReplySink, id: number | string): void;
  /** Routes a call again from the start (after a failed link): local or to the current owner. */
  route(req: CallRequest, sink: ReplySink, id: number | string): void;
  /** Ownership moved: drop cached records, hand mail for actors now owned elsewhere to `route`. */
  ownershipChanged(): void;
  /** This node was fenced and is confirmed again: it takes every shard it owns over anew. */
  retakeAll(): void;
  /** The handoff of these shards (gained, or taken over anew) is over: what their previous owner wrote until then is readable now. */
  handoffEnded(shards: readonly number[]): void;
  /** An event published on another node, for this node's subscribers. */
  deliverEvent(topic: string, data: unknown, from: string, seq: number): void;
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
  /** This process's identity, in the keys made up for forwarded calls. */
  readonly incarnation: string;
  /** Deadline of forwarded calls that carry none (--call-timeout). */
  readonly callTimeoutMs: number;
  /** Forward spans (--otel-endpoint); none when omitted. */
  readonly tracer?: CallTracer | null;
}

/** How often the node looks whether it became fenced or confirmed again. */
const FENCE_CHECK_MS = 100;

/** Answers to calls from a peer go back to that peer. */
class PeerSink implements ReplySink {
  constructor(private readonly cluster: Cluster, readonly peerId: string) {}
  deliver(id: number | string, result: TurnResult): void {
    this.cluster.answer(this.peerId, [LinkTag.Result, id as number, result]);
  }
}

export class Cluster {
  readonly placement: Placement;
  private readonly addresses = new Map<string, PeerAddress>();
  private readonly sinks = new Map<string, PeerSink>();
  private readonly answerDropLoggedAt = new Map<string, number>();
  private readonly calls: CallForwarder;
  private readonly interest: TopicInterest;
  private readonly handoff: ShardHandoff;
  private readonly limboTimer: NodeJS.Timeout;
  private readonly fenceTimer: NodeJS.Timeout;
  private wasFenced = false;
  private leaving = false;
  private closed = false;

  constructor(private readonly o: ClusterOptions) {
    this.placement = new Placement(o.self.id);
    this.calls = new CallForwarder({
      selfId: o.self.id,
      incarnation: o.incarnation,
      callTimeoutMs: o.callTimeoutMs,
      wheel: o.wheel,
      owner: (type, key) => this.placement.owner(type, key),
      send: (peerId, msg) => {
        const peer = this.addresses.get(peerId);
        return peer !== undefined && o.transport.send(peer, msg);
      },
      peerDown: (peerId) => o.transport.peerState(peerId) === 'down',
      callLocal: (req, sink, id) => o.host.callLocal(req, sink, id),
      tracer: o.tracer ?? null,
    });
    this.interest = new TopicInterest(() => o.host.localTopics(), () => this.addresses.keys(), (peerId, msg) => this.sendTo(peerId, msg));
    this.handoff = new ShardHandoff(o.discovery.leaseMs, (shards) => {
      if (!this.closed) this.o.host.handoffEnded(shards);
    });
    o.transport.onMessage((from, msg) => this.onMessage(from, msg));
    o.transport.onPeerDown((peer) => this.onPeerDown(peer));
    o.transport.onPeerUp((peer) => this.onPeerUp(peer));
    o.discovery.onChange((members) => this.onMembers(members));
    this.limboTimer = setInterval(() => this.calls.retryLimbo(), 100);
    this.limboTimer.unref();
    this.fenceTimer = setInterval(() => this.checkFence(), FENCE_CHECK_MS);
    this.fenceTimer.unref();
  }

  /**
   * Whether this node's membership is confirmed now (see Discovery.confirmedUntil).
   * A fenced node acts as the owner of nothing: a paused process, a node that
   * lost its agent or its network may already have been replaced.
   */
  fenced(now = Date.now()): boolean {
    return now > this.o.discovery.confirmedUntil();
  }

  /**
   * How long this node must wait before running turns of a shard it owns:
   * 0 (now), the rest of a handoff (a shard just gained), or Infinity while
   * the node is fenced.
   */
  serveDelay(shard: number): number {
    const now = Date.now();
    if (this.fenced(now)) return Infinity;
    return this.handoff.delay(shard, now);
  }

  /**
   * Fenced → confirmed again: others may have owned this node's shards
   * meanwhile, so every owned shard is taken over again like a gained one
   * (a handoff wait, cached records dropped, wake index read again).
   */
  private checkFence(): void {
    if (this.closed) return;
    const fenced = this.fenced();
    if (fenced === this.wasFenced) return;
    this.wasFenced = fenced;
    if (fenced) {
      this.o.log.log('warn', 'fenced', { reason: 'membership not confirmed within its lease', leaseMs: this.o.discovery.leaseMs });
      return;
    }
    this.o.log.log('info', 'unfenced', {});
    this.handoff.retakeAll(this.placement, Date.now());
    this.o.host.retakeAll();
  }

  /** Registers with discovery and takes the first member list; the gateway must already answer /health/ready. */
  async start(): Promise<void> {
    await this.o.discovery.start(this.o.self);
    this.onMembers(this.o.discovery.members());
    // Whatever this node owns now, the members that owned it before have to see it join first.
    this.handoff.retakeAll(this.placement, Date.now());
  }

  get selfId(): string {
    return this.o.self.id;
  }

  /** Calls forwarded since start, for metrics. */
  get forwarded(): number {
    return this.calls.forwarded;
  }

  isLocal(type: string, key: string): boolean {
    return this.placement.isLocal(type, key);
  }

  owner(type: string, key: string): string {
    return this.placement.owner(type, key);
  }

  /** Sends a call to its owner; the answer comes back through `sink`. */
  forward(req: CallRequest, sink: ReplySink, sinkId: number | string): void {
    this.calls.forward(req, sink, sinkId);
  }

  /** A client's one-way message: at most once (a tell from an actor goes through its outbox instead). */
  forwardTell(req: CallRequest): void {
    const peer = this.addresses.get(this.placement.owner(req.type, req.key));
    if (peer === undefined) return;
    const tp = req.traceparent;
    this.o.transport.send(peer, tp === undefined ? [LinkTag.Tell, req.type, req.key, req.method, req.args, req.caller ?? null] : [LinkTag.Tell, req.type, req.key, req.method, req.args, req.caller ?? null, tp]);
  }

  /** Sends a message to a peer by id (answers, events); dropped if the peer is unknown. */
  sendTo(peerId: string, msg: LinkMessage): void {
    const peer = this.addresses.get(peerId);
    if (peer !== undefined) this.o.transport.send(peer, msg);
  }

  /**
   * An answer to a call a peer sent here. It goes back over that peer's link
   * even when this node's view does not list the peer: the caller is waiting
   * on a link it sees up, so a dropped answer would leave its call hanging
   * until its deadline (seen after a Consul agent restart, when each node's
   * view emptied and refilled at its own time). With no link open the answer
   * is dropped: the caller then sees its link down and sends the call again.
   */
  answer(peerId: string, msg: LinkMessage): void {
    const peer = this.addresses.get(peerId);
    const sent = peer !== undefined ? this.o.transport.send(peer, msg) : this.o.transport.sendOnLink(peerId, msg);
    if (sent) return;
    // Once a second per peer at most: a peer whose queue is full would otherwise flood the log.
    const now = Date.now();
    if (now - (this.answerDropLoggedAt.get(peerId) ?? 0) < 1000) return;
    this.answerDropLoggedAt.set(peerId, now);
    this.o.log.log('warn', 'answer_not_sent', { peer: peerId, listed: peer !== undefined, link: this.o.transport.peerState(peerId) });
  }

  /** An event committed on this node: to every peer with subscribers for it. */
  publish(topic: string, data: unknown, from: string, seq: number): void {
    this.interest.publish(topic, data, from, seq);
  }

  /** Local subscriptions changed: tell every peer (once per tick). */
  interestChanged(): void {
    this.interest.changed();
  }

  private onMessage(from: string, raw: unknown): void {
    if (this.closed) return;
    if (!isLinkMessage(raw)) {
      this.o.log.log('warn', 'link_bad_message', { peer: from });
      return;
    }
    switch (raw[0]) {
      case LinkTag.Call: {
        const [, id, type, key, method, args, idem, caller, ttlMs, ack, traceparent] = raw;
        this.o.host.callLocal(traceparent === undefined ? { type, key, method, args, idem, caller, timeoutMs: ttlMs, ack } : { type, key, method, args, idem, caller, timeoutMs: ttlMs, ack, traceparent }, this.sinkFor(from), id);
        return;
      }
      case LinkTag.Tell: {
        const [, type, key, method, args, caller, traceparent] = raw;
        this.o.host.callLocal(traceparent === undefined ? { type, key, method, args, caller } : { type, key, method, args, caller, traceparent }, DISCARD, 0);
        return;
      }
      case LinkTag.Result:
        this.calls.answered(from, raw[1], raw[2]);
        return;
      case LinkTag.Event:
        this.o.host.deliverEvent(raw[1], raw[2], raw[3], raw[4]);
        return;
      case LinkTag.Interest:
        this.interest.set(from, raw[1]);
        return;
    }
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
    this.calls.peerDown(peerId);
    this.o.log.log('warn', 'peer_down', { peer: peerId, waiting: this.calls.waitingForOwner });
  }

  private onPeerUp(peerId: string): void {
    this.o.log.log('info', 'peer_up', { peer: peerId });
    this.interest.peerUp(peerId);
    this.calls.retryLimbo();
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
        this.interest.forget(id);
        this.sinks.delete(id);
        this.o.transport.forget(id);
        this.onPeerDown(id);
      }
    }
    // A leaving node owns nothing, even while discovery still lists it.
    const owners = this.leaving ? ids.filter((id) => id !== this.o.self.id) : ids.includes(this.o.self.id) ? ids : [...ids, this.o.self.id];
    const before = this.placement.memberIds.join(',');
    const change = this.placement.update(owners);
    this.handoff.gained(change.gainedFrom, (id) => ids.includes(id), Date.now());
    if (before !== this.placement.memberIds.join(',')) {
      this.o.log.log('info', 'placement', { members: this.placement.memberIds, moved: change.moved, gained: change.gained.length, lost: change.lost.length });
      this.o.host.ownershipChanged();
      this.interest.changed();
    }
    this.calls.retryLimbo();
  }

  /** Graceful drain: leave discovery and give up every shard; peers take over. */
  async leave(): Promise<void> {
    this.leaving = true;
    await this.o.discovery.leave();
    this.onMembers(this.o.discovery.members());
  }

  /** For /health/ready: who the members are and how many shards each owns. */
  summary(): { members: readonly string[]; shards: Record<string, number>; forwardedInflight: number; waitingForOwner: number; fenced: boolean; confirmedForMs: number } {
    const now = Date.now();
    const until = this.o.discovery.confirmedUntil();
    return {
      members: this.placement.memberIds,
      shards: Object.fromEntries(this.placement.counts()),
      forwardedInflight: this.calls.inflight,
      waitingForOwner: this.calls.waitingForOwner,
      fenced: this.fenced(now),
      confirmedForMs: until === Infinity ? -1 : Math.max(0, until - now),
    };
  }

  /** Discovery's current members (address, gateway port, zone): the dashboard reads its peers' figures from them. */
  members(): readonly Member[] {
    return this.o.discovery.members();
  }

  /** Calls forwarded from this node still waiting for an answer. */
  get inflight(): number {
    return this.calls.inflight;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.limboTimer);
    clearInterval(this.fenceTimer);
    this.handoff.close();
    this.calls.close();
    await this.o.discovery.close();
    await this.o.transport.close();
  }
}
