/**
 * The reminder workload of the chaos run: workers schedule one-shot
 * reminders on Tickers, due 1-4 s ahead, and cancel some of them at once.
 * After the run each must have fired exactly once, unless a cancel that
 * answered `true` removed it first (then never); a reminder whose schedule
 * or cancel was never acknowledged may have either outcome.
 */
import type { TroupeClient } from '../../client/index.js';
import { errorCode, runLanes } from './calls.js';
import type { Random } from './random.js';

const RETRYABLE = new Set(['E_UNAVAILABLE', 'E_TIMEOUT', 'E_OVERLOADED', 'E_CLIENT']);

export interface ScheduledReminder {
  readonly ticker: string;
  readonly id: string;
  /** Epoch ms it is due (as the client computed it when sending). */
  readonly dueAt: number;
  /** The schedule call was acknowledged. */
  scheduled: boolean;
  /** What `cancel` answered: true (removed before firing), false (had fired), or undefined (not cancelled, or unacknowledged). */
  cancelled?: boolean;
  /** A cancel was sent but never acknowledged. */
  cancelUnknown?: boolean;
}

export interface ReminderLoadOptions {
  readonly clients: readonly TroupeClient[];
  readonly workers: number;
  readonly runId: string;
  readonly rng: Random;
  readonly tickers: number;
  readonly until: number;
  readonly giveUpMs: number;
  readonly callTimeoutMs: number;
  /** Share of reminders cancelled right after being scheduled. */
  readonly cancelShare: number;
}

export class ReminderLoad {
  readonly reminders: ScheduledReminder[] = [];
  private stopped = false;

  constructor(private readonly o: ReminderLoadOptions) {}

  get tickerKeys(): string[] {
    return Array.from({ length: this.o.tickers }, (_, i) => `${this.o.runId}-t${i}`);
  }

  /** When the last reminder is due, epoch ms (0 with none). */
  get lastDue(): number {
    return this.reminders.reduce((m, r) => Math.max(m, r.dueAt), 0);
  }

  stop(): void {
    this.stopped = true;
  }

  async run(): Promise<void> {
    await runLanes(this.o, () => this.stopped, async (client, i) => {
      const ticker = `${this.o.runId}-t${this.o.rng.int(0, this.o.tickers - 1)}`;
      const afterMs = this.o.rng.int(1000, 4000);
      const rec: ScheduledReminder = { ticker, id: `m${i}`, dueAt: Date.now() + afterMs, scheduled: false };
      this.reminders.push(rec);
      rec.scheduled = await this.send(client, ticker, 'schedule', [rec.id, afterMs], `${this.o.runId}-rs-${i}`) !== undefined;
      if (rec.scheduled && this.o.rng.next() < this.o.cancelShare) {
        const answer = await this.send(client, ticker, 'cancel', [rec.id], `${this.o.runId}-rc-${i}`);
        if (answer === undefined) rec.cancelUnknown = true;
        else rec.cancelled = answer === true;
      }
      await new Promise((r) => setTimeout(r, 20));
    });
  }

  private async send(client: TroupeClient, ticker: string, method: string, args: unknown[], idem: string): Promise<unknown> {
    const giveUp = Date.now() + this.o.giveUpMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await client.call('Ticker', ticker, method, args, { idem, timeout: this.o.callTimeoutMs });
      } catch (err) {
        if (!RETRYABLE.has(errorCode(err)) || Date.now() > giveUp) return undefined;
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random())));
      }
    }
  }
}
