/**
 * When a node may start running turns of a shard it just gained. Two nodes
 * must never both act as a shard's owner for long; versioned writes keep
 * state right when they do, but a read served from the old owner's cache, or
 * a reminder fired twice, would not be. So the gaining node waits:
 *
 * - after a member disappeared: the discovery lease (Discovery.leaseMs), by
 *   which time that member, if it is only paused or cut off, has fenced
 *   itself (it renews its membership every pass, and stops acting once its
 *   last renewal is older than the lease);
 * - after a member joined or a shard moved between live members: the same
 *   lease (at least JOIN_HANDOFF_MS): a live owner serves only while its
 *   membership is confirmed with a view as new as the servers' when the
 *   confirmation was sent (consul-discovery.ts), so one lease after the
 *   change it has either seen the change or fenced itself. A shorter wait
 *   (Consul's watch usually takes milliseconds) let an owner whose watch
 *   lagged answer reads from its cache after the new owner's first writes.
 *
 * Mail for a shard under handoff waits in its mailbox; nothing is refused.
 *
 * The wake index of a gained shard is read when it is gained and again once
 * its wait is over (`onServable`): the previous owner may still have written
 * entries (a reminder scheduled, a tell committed to an outbox) until it saw
 * the change or fenced itself, and the first read cannot have seen those.
 */
import { SHARD_COUNT } from '../placement/shards.js';

/** Wait before serving a shard taken from a live member, ms. */
export const JOIN_HANDOFF_MS = 500;

/** Past a handoff's end, for a grid write the previous owner sent just before it stopped to land. */
export const HANDOFF_SETTLE_MS = 250;

export class ShardHandoff {
  /** Per shard, when this node may serve it (epoch ms); Infinity until the first placement is known. */
  private readonly servableAt = new Array<number>(SHARD_COUNT).fill(Infinity);

  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly joinWaitMs: number;

  /** @param onServable called with shards whose wait just ended (after HANDOFF_SETTLE_MS more). */
  constructor(
    private readonly leaseMs: number,
    private readonly onServable: (shards: readonly number[]) => void = () => {},
  ) {
    this.joinWaitMs = Math.max(JOIN_HANDOFF_MS, leaseMs);
  }

  /** Milliseconds still to wait before serving `shard`; 0 when it may be served now. */
  delay(shard: number, now: number): number {
    const at = this.servableAt[shard]!;
    return at <= now ? 0 : at - now;
  }

  /** Shards gained from their previous owners; `alive` tells whether one is still a member. */
  gained(from: ReadonlyMap<number, string>, alive: (id: string) => boolean, now: number): void {
    for (const [shard, previous] of from) {
      const wait = previous === '' ? 0 : alive(previous) ? this.joinWaitMs : this.leaseMs;
      this.servableAt[shard] = Math.max(now + wait, this.servableAt[shard] === Infinity ? 0 : this.servableAt[shard]!);
    }
    this.notifyWhenServable([...from.keys()], now);
  }

  /** Every shard this node owns is taken over anew (it joined, or came back from being fenced). */
  retakeAll(placement: { ownerOfShard(shard: number): string; readonly selfId: string }, now: number): void {
    const owned: number[] = [];
    for (let shard = 0; shard < SHARD_COUNT; shard++) {
      if (placement.ownerOfShard(shard) === placement.selfId) {
        this.servableAt[shard] = now + this.joinWaitMs;
        owned.push(shard);
      } else if (this.servableAt[shard] === Infinity) this.servableAt[shard] = 0;
    }
    this.notifyWhenServable(owned, now);
  }

  /** One timer per batch of shards: when the last of them may be served, plus the settle time. */
  private notifyWhenServable(shards: readonly number[], now: number): void {
    if (shards.length === 0) return;
    let last = now;
    for (const shard of shards) last = Math.max(last, this.servableAt[shard]!);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.onServable(shards);
    }, last - now + HANDOFF_SETTLE_MS);
    timer.unref();
    this.timers.add(timer);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
