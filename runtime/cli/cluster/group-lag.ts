/**
 * A consumer group's lag as the broker sees it: each partition's end offset
 * minus the offset the group committed. The nodes' own troupe_stream_lag
 * gauges cover only partitions a live node holds (a killed node's vanish with
 * it, and a rebalance hides them for seconds), while what the group
 * committed is exactly what Troupe has applied (offsets are committed only
 * after the turns that applied them), so the autoscaler reads this.
 */
import { Kafka, logLevel, type Admin } from 'kafkajs';

export interface GroupLag {
  readonly total: number;
  readonly partitions: readonly { readonly partition: number; readonly end: number; readonly committed: number; readonly lag: number }[];
  /** Sum over partitions of the committed offsets, the records applied so far (from the start of the topic). */
  readonly committed: number;
}

export class GroupLagReader {
  private readonly admin: Admin;
  private connected: Promise<void> | null = null;

  constructor(brokers: readonly string[], private readonly groupId: string, private readonly topic: string) {
    this.admin = new Kafka({ clientId: 'troupe-autoscale', brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 1 } }).admin();
  }

  async read(): Promise<GroupLag> {
    this.connected ??= this.admin.connect().catch((err: unknown) => {
      this.connected = null;
      throw err;
    });
    await this.connected;
    const [ends, groups] = await Promise.all([this.admin.fetchTopicOffsets(this.topic), this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] })]);
    const committedOf = new Map((groups[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    const partitions = ends.map((e) => {
      const end = Number(e.high);
      // -1: the group never committed here; it starts from the log's beginning.
      const c = committedOf.get(e.partition) ?? -1;
      const committed = c < 0 ? Number(e.low) : c;
      return { partition: e.partition, end, committed, lag: Math.max(0, end - committed) };
    }).sort((a, b) => a.partition - b.partition);
    return {
      total: partitions.reduce((n, p) => n + p.lag, 0),
      committed: partitions.reduce((n, p) => n + p.committed, 0),
      partitions,
    };
  }

  async close(): Promise<void> {
    if (this.connected !== null) await this.admin.disconnect().catch(() => {});
  }
}
