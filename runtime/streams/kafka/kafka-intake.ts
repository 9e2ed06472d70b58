/**
 * The Kafka engine behind StreamIntake (kafkajs; bench/README.md says why).
 * Every node of a cluster joins one consumer group per topic, so Kafka shares
 * the partitions out among them; each record becomes a call through the
 * node's router, which sends it to the actor's owner wherever that is.
 *
 * Per partition (kafkajs hands each fetched batch of one partition to
 * `eachBatch`, several partitions at once):
 * - records go through a PartitionWindow: a bounded number in flight, one at
 *   a time per key, so an actor sees its partition's records in log order;
 * - an offset is resolved and committed only once it and every offset before
 *   it were answered (the turn committed), never on fetch: kafkajs's own
 *   auto-commit and auto-resolve are off;
 * - backpressure (the node's backlog past half its bound, or an E_OVERLOADED
 *   answer) pauses the partition's fetching until the backlog drains; the
 *   record is retried, never dropped.
 */
import { Kafka, logLevel as KafkaLogLevel, type Batch, type Consumer, type EachBatchPayload, type LogEntry } from 'kafkajs';
import type { ErrorCode } from '../../../protocol/errors.js';
import { deliver } from '../delivery.js';
import { PartitionWindow } from '../partition-window.js';
import { recordCall } from '../record-call.js';
import type { IntakeCounts, IntakeHost, PartitionLag, StreamIntake } from '../stream-intake.js';
import type { StreamSpec } from '../stream-spec.js';

/** Records of one partition in flight at once. Enough to keep turns of different keys overlapping, small enough that a crash re-reads little. */
const WINDOW = 64;
/** Partitions handled side by side on this node. */
const PARTITIONS_AT_ONCE = 8;
/** Commit the answered prefix at least this often within a long batch (and always at its end). */
const COMMIT_EVERY_MS = 1_000;
/** The share of the node's backlog bound past which partitions pause, before the node has to refuse calls. */
const BACKLOG_SHARE = 0.5;
const RECONNECT_MS = 2_000;
/**
 * How often the partitions' end offsets are read from the broker. A batch
 * brings its partition's high-water mark, but a paused partition fetches no
 * batch, so without this its lag gauge would freeze at the moment it paused,
 * just when lag matters most.
 */
const END_OFFSETS_EVERY_MS = 5_000;
/** Each record's call deadline: the node's default is for interactive callers; a stream can wait. */
const CALL_TIMEOUT_MS = 30_000;

interface PartitionState {
  /** Next offset to commit (what the group has, once committed). */
  committed: bigint | null;
  highWatermark: bigint;
}

const LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

export class KafkaIntake implements StreamIntake {
  readonly counts: IntakeCounts = { applied: 0, skipped: 0, failed: 0, retries: 0, pauses: 0 };
  private readonly partitions = new Map<number, PartitionState>();
  private consumer: Consumer | null = null;
  private stopping = false;
  private running: Promise<void> | null = null;
  private readonly batches = new Set<Promise<void>>();

  constructor(readonly spec: StreamSpec, private readonly host: IntakeHost) {}

  start(): void {
    this.running ??= this.connectLoop();
  }

  lag(): PartitionLag[] {
    return [...this.partitions].map(([partition, p]) => ({
      topic: this.spec.topic,
      partition,
      lag: Number(p.committed === null ? p.highWatermark : p.highWatermark > p.committed ? p.highWatermark - p.committed : 0n),
    }));
  }

  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    // Batches under way see `stopping`, let their calls in flight answer, commit the answered prefix and return.
    const deadline = new Promise((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([Promise.allSettled([...this.batches]), deadline]);
    await this.consumer?.disconnect().catch(() => {});
    await this.running;
    this.host.log.log('info', 'stream_stopped', { topic: this.spec.topic, ...this.counts });
  }

  /** Connects, joins the group and runs; on a failure (broker down at start, a crash kafkajs will not restart) tries again until stopped. */
  private async connectLoop(): Promise<void> {
    while (!this.stopping) {
      const kafka = this.newKafka();
      const consumer = this.newConsumer(kafka);
      this.consumer = consumer;
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [this.spec.topic], fromBeginning: true });
        // A rebalance took partitions elsewhere: their lag is now another node's to report.
        consumer.on(consumer.events.GROUP_JOIN, (e) => {
          const mine = new Set(e.payload.memberAssignment[this.spec.topic] ?? []);
          for (const p of [...this.partitions.keys()]) if (!mine.has(p)) this.partitions.delete(p);
        });
        const crashed = new Promise<Error>((resolve) => {
          consumer.on(consumer.events.CRASH, (e) => {
            if (!e.payload.restart) resolve(e.payload.error);
          });
        });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
          eachBatch: (payload) => this.trackBatch(payload),
        });
        const endOffsets = this.watchEndOffsets(kafka);
        this.host.log.log('info', 'stream_started', { topic: this.spec.topic, brokers: this.spec.brokers, group: this.host.groupId(this.spec.topic), target: `${this.spec.type}.${this.spec.method}` });
        const stopped = new Promise<null>((resolve) => {
          const timer = setInterval(() => {
            if (this.stopping) {
              clearInterval(timer);
              resolve(null);
            }
          }, 100);
        });
        const error = await Promise.race([crashed, stopped]).finally(() => endOffsets.stop());
        if (error === null) return;
        this.host.log.log('error', 'stream_crashed', { topic: this.spec.topic, error: error.message });
      } catch (err) {
        if (this.stopping) return;
        this.host.log.log('warn', 'stream_connect_failed', { topic: this.spec.topic, brokers: this.spec.brokers, error: (err as Error).message });
      }
      await consumer.disconnect().catch(() => {});
      await new Promise((r) => setTimeout(r, RECONNECT_MS));
    }
  }

  /** Reads the end offsets of the partitions this node holds every END_OFFSETS_EVERY_MS, until stopped. */
  private watchEndOffsets(kafka: Kafka): { stop(): Promise<void> } {
    const admin = kafka.admin();
    let connected: Promise<void> | null = null;
    const timer = setInterval(() => {
      if (this.partitions.size === 0) return;
      connected ??= admin.connect().catch((err: unknown) => {
        connected = null;
        throw err;
      });
      connected
        .then(() => admin.fetchTopicOffsets(this.spec.topic))
        .then((ends) => {
          for (const e of ends) {
            const p = this.partitions.get(e.partition);
            const high = BigInt(e.high);
            if (p !== undefined && high > p.highWatermark) p.highWatermark = high;
          }
        })
        // A missed read leaves the last figure; the next tick tries again.
        .catch(() => {});
    }, END_OFFSETS_EVERY_MS);
    timer.unref();
    return {
      async stop() {
        clearInterval(timer);
        if (connected !== null) await admin.disconnect().catch(() => {});
      },
    };
  }

  private newKafka(): Kafka {
    const log = this.host.log;
    const topic = this.spec.topic;
    return new Kafka({
      clientId: `troupe-${topic}`,
      brokers: [...this.spec.brokers],
      logLevel: KafkaLogLevel.WARN,
      // kafkajs's lines into the node's JSON log, as warnings and errors only (its INFO is per-rebalance chatter).
      logCreator: () => (entry: LogEntry) => log.log(LEVEL[entry.level] ?? 'info', 'kafka_client', { topic, message: entry.log.message, ...(entry.log.error === undefined ? {} : { error: entry.log.error }) }),
    });
  }

  private newConsumer(kafka: Kafka): Consumer {
    return kafka.consumer({
      groupId: this.host.groupId(this.spec.topic),
      sessionTimeout: 10_000,
      rebalanceTimeout: 15_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 250,
    });
  }

  private trackBatch(payload: EachBatchPayload): Promise<void> {
    const done = this.handleBatch(payload).finally(() => this.batches.delete(done));
    this.batches.add(done);
    return done;
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale } = payload;
    const state = this.partitionState(batch);
    const window = new PartitionWindow(WINDOW);
    let lastCommit = Date.now();
    const gone = (): boolean => this.stopping || !isRunning() || isStale();
    for (const message of batch.messages) {
      if (gone()) break;
      await window.admit(heartbeat);
      await this.waitForBacklog(payload, gone);
      if (gone()) break;
      const offset = BigInt(message.offset);
      // The committed offset goes with each record as its key's ack: the actor keeps a mark per partition, not an entry per record.
      const ack = state.committed === null ? -1 : Number(state.committed);
      const made = recordCall(this.spec, { topic: batch.topic, partition: batch.partition, offset: message.offset, key: message.key, value: message.value }, CALL_TIMEOUT_MS, ack);
      if ('skip' in made) {
        this.counts.skipped++;
        this.host.log.log('warn', 'stream_record_skipped', { topic: batch.topic, partition: batch.partition, offset: message.offset, reason: made.skip });
        window.skip(offset);
      } else {
        window.start(offset, made.call.key, async () => {
          const result = await deliver(made.call, {
            call: (req) => this.host.call(req),
            stopped: () => this.stopping,
            onRetry: (code) => this.retried(code),
          });
          if ('stopped' in result) return false;
          if (result.ok) this.counts.applied++;
          else {
            this.counts.failed++;
            this.host.log.log('warn', 'stream_call_failed', { topic: batch.topic, partition: batch.partition, offset: message.offset, key: made.call.key, code: result.error.code, error: result.error.message });
          }
          return true;
        });
      }
      if (Date.now() - lastCommit >= COMMIT_EVERY_MS) {
        await this.commit(payload, window, state);
        lastCommit = Date.now();
      }
    }
    await window.settled(heartbeat);
    await this.commit(payload, window, state);
  }

  private partitionState(batch: Batch): PartitionState {
    let s = this.partitions.get(batch.partition);
    if (s === undefined) {
      s = { committed: null, highWatermark: 0n };
      this.partitions.set(batch.partition, s);
    }
    // The larger of the batch's mark and the last end offset read: a batch fetched before that read may carry an older one.
    const high = BigInt(batch.highWatermark);
    if (high > s.highWatermark) s.highWatermark = high;
    // Before this node's first commit, the batch's first offset is where the group stood.
    if (s.committed === null && batch.messages.length > 0) s.committed = BigInt(batch.firstOffset() ?? batch.messages[0]!.offset);
    return s;
  }

  /** Commits the answered prefix (resolve first, so kafkajs's next fetch starts there too). A failed commit is re-read later, which the idem keys make harmless. */
  private async commit(payload: EachBatchPayload, window: PartitionWindow, state: PartitionState): Promise<void> {
    const next = window.committable;
    if (next === null || (state.committed !== null && next <= state.committed)) return;
    payload.resolveOffset((next - 1n).toString());
    try {
      await this.consumer!.commitOffsets([{ topic: payload.batch.topic, partition: payload.batch.partition, offset: next.toString() }]);
      state.committed = next;
    } catch (err) {
      this.host.log.log('warn', 'stream_commit_failed', { topic: payload.batch.topic, partition: payload.batch.partition, offset: next.toString(), error: (err as Error).message });
    }
  }

  private overloadedUntil = 0;

  private retried(code: ErrorCode): void {
    this.counts.retries++;
    // The node refused for load: every partition holds back for a moment, not just the one that was refused.
    if (code === 'E_OVERLOADED') this.overloadedUntil = Date.now() + 200;
  }

  /**
   * Backpressure: while the node's backlog is past its share of the bound (or
   * the node just answered E_OVERLOADED), pause this partition's fetching and
   * wait, heartbeating so the group keeps the partition here.
   */
  private async waitForBacklog(payload: EachBatchPayload, gone: () => boolean): Promise<void> {
    const over = (): boolean => {
      const b = this.host.backlog();
      return b.queued > b.limit * BACKLOG_SHARE || Date.now() < this.overloadedUntil;
    };
    if (!over()) return;
    this.counts.pauses++;
    const resume = payload.pause();
    try {
      let waitMs = 10;
      for (let i = 0; over() && !gone(); i++) {
        await new Promise((r) => setTimeout(r, waitMs));
        waitMs = Math.min(200, waitMs * 2);
        if (i % 5 === 4) await payload.heartbeat();
      }
    } finally {
      resume();
    }
  }
}
