/**
 * Which peers have subscribers for which topics, so an event committed here
 * goes only to the nodes that want it. Each node sends its whole set of
 * topics on link up and on every change (once per tick).
 */
import { LinkTag, type LinkMessage } from './link-protocol.js';

export class TopicInterest {
  private readonly peers = new Map<string, ReadonlySet<string>>();
  private scheduled = false;

  constructor(
    private readonly localTopics: () => readonly string[],
    private readonly peerIds: () => Iterable<string>,
    private readonly sendTo: (peerId: string, msg: LinkMessage) => void,
  ) {}

  /** An event committed on this node: to every peer with subscribers for it. */
  publish(topic: string, data: unknown, from: string, seq: number): void {
    for (const [peerId, topics] of this.peers) {
      if (topics.has(topic)) this.sendTo(peerId, [LinkTag.Event, topic, data, from, seq]);
    }
  }

  /** Local subscriptions changed: tell every peer (once per tick). */
  changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const topics = this.localTopics();
      for (const peerId of this.peerIds()) this.sendTo(peerId, [LinkTag.Interest, topics]);
    });
  }

  /** A peer's link came up: it needs our topics. */
  peerUp(peerId: string): void {
    this.sendTo(peerId, [LinkTag.Interest, this.localTopics()]);
  }

  set(peerId: string, topics: readonly string[]): void {
    this.peers.set(peerId, new Set(topics));
  }

  forget(peerId: string): void {
    this.peers.delete(peerId);
  }
}
