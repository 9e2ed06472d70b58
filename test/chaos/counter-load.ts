/**
 * The counter workload of the chaos run: workers add to a few Counter keys
 * with idempotency keys (re-sent with the same key until answered, bounded)
 * and read them with `get`, concurrently. Every add's answer is the key's new
 * total; with positive amounts those totals, ordered, show whether one
 * writer applied each add once (counter-checks.ts). Each read records when
 * it began, so it can be held against every add acknowledged before that.
 */
import type { TroupeClient } from '../../client/index.js';
import { errorCode, runLanes } from './calls.js';
import type { Random } from './random.js';

const RETRYABLE = new Set(['E_UNAVAILABLE', 'E_TIMEOUT', 'E_OVERLOADED', 'E_CLIENT']);

export interface AddRecord {
  readonly key: string;
  readonly amount: number;
  /** When the first attempt was sent (epoch ms). */
  readonly sentAt: number;
  /** When the answer came (epoch ms); undefined: never answered (the add may or may not have been applied). */
  ackedAt?: number;
  /** The total the add answered. */
  value?: number;
}

export interface ReadRecord {
  readonly key: string;
  /** When the read was sent (epoch ms): every add acknowledged before this must be in its value. */
  readonly startedAt: number;
  readonly answeredAt: number;
  readonly value: number;
}

export interface CounterLoadOptions {
  readonly clients: readonly TroupeClient[];
  readonly workers: number;
  readonly runId: string;
  readonly rng: Random;
  readonly keys: number;
  /** Share of operations that are reads. */
  readonly readShare: number;
  readonly until: number;
  /** How long one add may keep being re-sent before it counts as unanswered, ms. */
  readonly giveUpMs: number;
  readonly callTimeoutMs: number;
}

export class CounterLoad {
  readonly adds: AddRecord[] = [];
  readonly reads: ReadRecord[] = [];
  readonly counts = { acked: 0, unknown: 0, resent: 0, reads: 0, readErrors: 0 };
  private stopped = false;

  constructor(private readonly o: CounterLoadOptions) {}

  get counterKeys(): string[] {
    return Array.from({ length: this.o.keys }, (_, i) => `${this.o.runId}-k${i}`);
  }

  stop(): void {
    this.stopped = true;
  }

  async run(): Promise<void> {
    const keys = this.counterKeys;
    await runLanes(this.o, () => this.stopped, async (client, i) => {
      const key = this.o.rng.pick(keys);
      if (this.o.rng.next() < this.o.readShare) await this.read(client, key);
      else await this.add(client, key, this.o.rng.int(1, 9), `${this.o.runId}-add-${i}`);
    });
  }

  private async add(client: TroupeClient, key: string, amount: number, idem: string): Promise<void> {
    const record: AddRecord = { key, amount, sentAt: Date.now() };
    this.adds.push(record);
    const giveUp = record.sentAt + this.o.giveUpMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const value = (await client.call('Counter', key, 'add', [amount], { idem, timeout: this.o.callTimeoutMs })) as number;
        record.ackedAt = Date.now();
        record.value = value;
        this.counts.acked++;
        return;
      } catch (err) {
        if (!RETRYABLE.has(errorCode(err)) || Date.now() > giveUp || this.stoppedHard()) {
          this.counts.unknown++;
          return;
        }
        this.counts.resent++;
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random())));
      }
    }
  }

  /** One attempt: a failed read proves nothing either way, so it is only counted. */
  private async read(client: TroupeClient, key: string): Promise<void> {
    const startedAt = Date.now();
    try {
      const value = (await client.call('Counter', key, 'get', [], { timeout: this.o.callTimeoutMs })) as number;
      this.reads.push({ key, startedAt, answeredAt: Date.now(), value });
      this.counts.reads++;
    } catch {
      this.counts.readErrors++;
      // Do not spin on a node that refuses at once (fenced): a short pause, as a real client would.
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private stoppedHard(): boolean {
    return this.stopped;
  }
}
