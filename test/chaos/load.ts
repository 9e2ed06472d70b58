/**
 * The load: concurrent workers start Transfer sagas with unique ids between
 * random accounts, and record each transfer's input and what the client saw.
 * Some amounts exceed any likely balance, so some transfers fail and are
 * compensated. Bounded by a deadline and a cap on transfers.
 */
import type { TroupeClient } from '../../client/index.js';
import { errorCode } from './calls.js';
import type { Random } from './random.js';

/** What the client saw for one transfer: the saga's outcome, or `error:<code>` when the call failed. */
export type Seen = 'completed' | 'failed' | `error:${string}` | 'pending';

export interface TransferRecord {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly amount: number;
  seen: Seen;
  /** First message of the error, when the call failed. */
  error?: string;
  /** When the call was sent and when its answer came, ms since the load began (evidence for a violation). */
  readonly sentAt: number;
  answeredAt?: number;
}

export interface LoadOptions {
  readonly clients: readonly TroupeClient[];
  readonly workers: number;
  readonly accounts: readonly string[];
  readonly initialBalance: number;
  readonly runId: string;
  readonly rng: Random;
  readonly maxTransfers: number;
  /** Epoch ms after which no new transfer starts. */
  readonly until: number;
  readonly callTimeoutMs: number;
}

export interface LoadCounts {
  started: number;
  completed: number;
  failed: number;
  errors: number;
}

export class TransferLoad {
  readonly transfers: TransferRecord[] = [];
  readonly counts: LoadCounts = { started: 0, completed: 0, failed: 0, errors: 0 };
  private stopped = false;
  private readonly t0 = Date.now();

  constructor(private readonly o: LoadOptions) {}

  /** Runs the workers until the deadline, the cap, or stop(); resolves when every started transfer has an answer. */
  async run(): Promise<void> {
    await Promise.all(Array.from({ length: this.o.workers }, (_, w) => this.worker(this.o.clients[w % this.o.clients.length]!)));
  }

  stop(): void {
    this.stopped = true;
  }

  private nextTransfer(): TransferRecord {
    const { rng, accounts, initialBalance } = this.o;
    const from = rng.pick(accounts);
    let to = rng.pick(accounts);
    while (to === from) to = rng.pick(accounts);
    // One in five asks for more than an account usually holds: those fail and are compensated.
    const amount = rng.next() < 0.2 ? rng.int(initialBalance, initialBalance * 3) : rng.int(1, Math.max(1, Math.floor(initialBalance / 5)));
    const rec: TransferRecord = { id: `${this.o.runId}-t${this.transfers.length}`, from, to, amount, seen: 'pending', sentAt: Date.now() - this.t0 };
    this.transfers.push(rec);
    this.counts.started++;
    return rec;
  }

  private async worker(client: TroupeClient): Promise<void> {
    while (!this.stopped && Date.now() < this.o.until && this.transfers.length < this.o.maxTransfers) {
      const t = this.nextTransfer();
      try {
        const outcome = (await client.call('Transfer', t.id, 'start', [{ from: t.from, to: t.to, amount: t.amount }], { timeout: this.o.callTimeoutMs })) as unknown;
        if (outcome === 'completed' || outcome === 'failed') {
          t.seen = outcome;
          this.counts[outcome]++;
        } else {
          t.seen = 'error:E_BAD_ANSWER';
          t.error = `start answered ${JSON.stringify(outcome)}`;
          this.counts.errors++;
        }
      } catch (err) {
        t.seen = `error:${errorCode(err)}`;
        t.error = String((err as Error).message ?? err).split('\n')[0];
        this.counts.errors++;
        // A failing cluster answers fast: do not spin through the transfer cap while a node is down.
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        t.answeredAt = Date.now() - this.t0;
      }
    }
  }
}
