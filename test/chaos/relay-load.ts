/**
 * The relay workload of the chaos run: workers send amounts to counters
 * through `Relay.forward` (a tell from the relay's outbox) and
 * `Relay.forwardAwait` (a call keyed by the relay's turn), each with its own
 * idem key, sent again until acknowledged (bounded). Each counter must end
 * with exactly the sum of its acknowledged amounts, plus at most the amounts
 * of calls that were never acknowledged.
 */
import type { TroupeClient } from '../../client/index.js';
import { errorCode, runLanes } from './calls.js';
import type { Random } from './random.js';

const RETRYABLE = new Set(['E_UNAVAILABLE', 'E_TIMEOUT', 'E_OVERLOADED', 'E_CLIENT']);

export interface RelayLoadOptions {
  readonly clients: readonly TroupeClient[];
  readonly workers: number;
  readonly runId: string;
  readonly rng: Random;
  readonly relays: number;
  readonly counters: number;
  /** Epoch ms after which no new call starts. */
  readonly until: number;
  /** How long one call may keep being re-sent before it counts as unacknowledged, ms. */
  readonly giveUpMs: number;
  readonly callTimeoutMs: number;
}

/** One relay call as the client saw it: evidence when a counter ends wrong. */
export interface RelayCall {
  readonly counter: string;
  readonly relay: string;
  readonly method: string;
  readonly amount: number;
  readonly idem: string;
  /** Error codes of the attempts that failed, in order. */
  readonly codes: string[];
  acked: boolean;
  /** When it was first sent and when it was acknowledged (epoch ms), to set beside the node logs. */
  readonly sentAt: number;
  ackedAt?: number;
}

export class RelayLoad {
  readonly calls: RelayCall[] = [];
  /** Per counter key: the acknowledged amounts' sum, and the sum of those never acknowledged. */
  readonly expected = new Map<string, { acked: number; unknown: number }>();
  readonly counts = { acked: 0, unacknowledged: 0, resent: 0 };
  private stopped = false;

  constructor(private readonly o: RelayLoadOptions) {}

  get counterKeys(): string[] {
    return Array.from({ length: this.o.counters }, (_, i) => `${this.o.runId}-c${i}`);
  }

  stop(): void {
    this.stopped = true;
  }

  async run(): Promise<void> {
    await runLanes(this.o, () => this.stopped, async (client, i) => {
      const counter = `${this.o.runId}-c${this.o.rng.int(0, this.o.counters - 1)}`;
      const relay = `${this.o.runId}-r${this.o.rng.int(0, this.o.relays - 1)}`;
      // Unique per call (its number times ten, plus 1-9): a counter that ends above its bound by
      // exactly one call's amount names that call, so a double can be traced to its path.
      const amount = 10 * i + this.o.rng.int(1, 9);
      const method = this.o.rng.next() < 0.3 ? 'forwardAwait' : 'forward';
      const e = this.expected.get(counter) ?? { acked: 0, unknown: 0 };
      this.expected.set(counter, e);
      const call: RelayCall = { counter, relay, method, amount, idem: `${this.o.runId}-relay-${i}`, codes: [], acked: false, sentAt: Date.now() };
      this.calls.push(call);
      if (await this.send(client, call)) {
        call.acked = true;
        call.ackedAt = Date.now();
        e.acked += amount;
        this.counts.acked++;
      } else {
        e.unknown += amount;
        this.counts.unacknowledged++;
      }
    });
  }

  private async send(client: TroupeClient, c: RelayCall): Promise<boolean> {
    const giveUp = Date.now() + this.o.giveUpMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await client.call('Relay', c.relay, c.method, [c.counter, c.amount], { idem: c.idem, timeout: this.o.callTimeoutMs });
        return true;
      } catch (err) {
        c.codes.push(errorCode(err));
        if (!RETRYABLE.has(errorCode(err)) || Date.now() > giveUp) return false;
        this.counts.resent++;
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random())));
      }
    }
  }
}
