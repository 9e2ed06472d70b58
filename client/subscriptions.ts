/**
 * Topic subscriptions: one `sub` on the wire per topic, however many local
 * handlers share it, and one `unsub` when the last one leaves. After a
 * reconnect every topic with handlers is subscribed again.
 */
import type { TroupeError } from '../protocol/index.js';

/**
 * Where an event came from and whether any before it were missed. Events
 * are delivered at most once; each carries its publisher (`Type/key`) and
 * the publisher's number for it on this topic (1, 2, 3, ...), committed with
 * the turn that published it. `missed` counts the numbers skipped since the
 * last event this client saw from that publisher on the topic (a node that
 * died between commit and publish, a reconnect, a slow client cut off).
 */
export interface EventInfo {
  readonly from?: string;
  readonly seq?: number;
  readonly missed: number;
}

/** Receives each event published on the topic. */
export type EventHandler<T = unknown> = (data: T, topic: string, info: EventInfo) => void;

export interface Subscription {
  readonly topic: string;
  /** Stops this handler; the last handler of a topic also unsubscribes on the node. Never rejects for a lost connection. */
  unsubscribe(): Promise<void>;
}

class Topic {
  readonly handlers = new Set<EventHandler>();
  /** Per publisher, the number of the last event seen (kept across reconnects, so gaps during one show). */
  readonly last = new Map<string, number>();
  /** The node has confirmed the subscription on the current connection. */
  confirmed = false;
  /** The `sub` request in flight, shared by everyone waiting for it. */
  inflight: Promise<void> | null = null;
}

export type SubRequest = (op: 'sub' | 'unsub', topic: string) => Promise<unknown>;

export class Subscriptions {
  private readonly topics = new Map<string, Topic>();

  constructor(
    private readonly request: SubRequest,
    private readonly onError: (error: Error) => void,
  ) {}

  async subscribe<T>(topic: string, handler: EventHandler<T>): Promise<Subscription> {
    let t = this.topics.get(topic);
    if (t === undefined) {
      t = new Topic();
      this.topics.set(topic, t);
    }
    // A wrapper of our own, so one function subscribed twice can be unsubscribed once.
    const h: EventHandler = (data, name, info) => handler(data as T, name, info);
    t.handlers.add(h);
    try {
      if (!t.confirmed) await this.ensure(topic, t);
    } catch (err) {
      t.handlers.delete(h);
      if (t.handlers.size === 0 && this.topics.get(topic) === t) this.topics.delete(topic);
      throw err;
    }
    let active = true;
    return {
      topic,
      unsubscribe: async () => {
        if (!active) return;
        active = false;
        await this.remove(topic, t, h);
      },
    };
  }

  /** Delivers one event to the topic's handlers; a throwing handler does not stop the others. */
  dispatch(topic: string, data: unknown, from?: string, seq?: number): void {
    const t = this.topics.get(topic);
    if (t === undefined) return;
    let missed = 0;
    if (from !== undefined && seq !== undefined) {
      const last = t.last.get(from);
      if (last !== undefined && seq > last + 1) missed = seq - last - 1;
      if (last === undefined || seq > last) t.last.set(from, seq);
    }
    const info: EventInfo = from === undefined ? { missed } : { from, seq, missed };
    for (const h of t.handlers) {
      try {
        h(data, topic, info);
      } catch (err) {
        this.onError(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  /** The connection dropped: the node has forgotten every subscription. */
  dropped(): void {
    for (const t of this.topics.values()) t.confirmed = false;
  }

  /** A new connection is open: subscribe again to every topic that is not already being subscribed. */
  resubscribe(): void {
    for (const [topic, t] of this.topics) {
      if (t.handlers.size > 0 && !t.confirmed && t.inflight === null) {
        this.ensure(topic, t).catch((err: TroupeError) => this.onError(err));
      }
    }
  }

  clear(): void {
    this.topics.clear();
  }

  private ensure(topic: string, t: Topic): Promise<void> {
    t.inflight ??= this.request('sub', topic).then(
      () => {
        t.inflight = null;
        t.confirmed = true;
      },
      (err: unknown) => {
        t.inflight = null;
        throw err;
      },
    );
    return t.inflight;
  }

  private async remove(topic: string, t: Topic, h: EventHandler): Promise<void> {
    t.handlers.delete(h);
    if (t.handlers.size > 0 || this.topics.get(topic) !== t) return;
    this.topics.delete(topic);
    try {
      await this.request('unsub', topic);
    } catch (err) {
      // Without a connection the node has already dropped the subscription.
      if ((err as TroupeError).code !== 'E_UNAVAILABLE') throw err;
    }
  }
}
