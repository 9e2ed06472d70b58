/**
 * Something that receives published events: a client connection, a peer link.
 * `from` names the publishing actor (`Type/key`) and `seq` numbers its events
 * on the topic, so a subscriber can tell when it missed some.
 */
export interface Subscriber {
  event(topic: string, data: unknown, from: string, seq: number): void;
}

/**
 * Topic subscriptions on this node. Events reach subscribers in publish order;
 * a subscriber that goes away is removed with all its topics at once.
 */
export class TopicHub {
  private readonly topics = new Map<string, Set<Subscriber>>();
  private readonly bySubscriber = new Map<Subscriber, Set<string>>();

  /** `onTopicsChanged` runs when a topic gains its first or loses its last subscriber (other nodes track that). */
  constructor(private readonly onTopicsChanged: () => void = () => {}) {}

  /** Topics with at least one subscriber here. */
  topicNames(): string[] {
    return [...this.topics.keys()];
  }

  subscribe(topic: string, sub: Subscriber): void {
    let subs = this.topics.get(topic);
    if (subs === undefined) {
      subs = new Set();
      this.topics.set(topic, subs);
      this.onTopicsChanged();
    }
    subs.add(sub);
    let mine = this.bySubscriber.get(sub);
    if (mine === undefined) {
      mine = new Set();
      this.bySubscriber.set(sub, mine);
    }
    mine.add(topic);
  }

  unsubscribe(topic: string, sub: Subscriber): void {
    const subs = this.topics.get(topic);
    if (subs !== undefined) {
      subs.delete(sub);
      if (subs.size === 0) {
        this.topics.delete(topic);
        this.onTopicsChanged();
      }
    }
    this.bySubscriber.get(sub)?.delete(topic);
  }

  unsubscribeAll(sub: Subscriber): void {
    const mine = this.bySubscriber.get(sub);
    if (mine === undefined) return;
    for (const topic of mine) this.unsubscribe(topic, sub);
    this.bySubscriber.delete(sub);
  }

  /** Returns how many local subscribers got the event. */
  publish(topic: string, data: unknown, from: string, seq: number): number {
    const subs = this.topics.get(topic);
    if (subs === undefined) return 0;
    for (const sub of subs) sub.event(topic, data, from, seq);
    return subs.size;
  }

  get topicCount(): number {
    return this.topics.size;
  }
}
