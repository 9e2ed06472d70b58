/**
 * Counter.add(1) load for the durable-tier tests: each key is driven by one
 * lane, one call at a time, so the totals a key's acknowledgements return
 * are strictly increasing and the highest one is what the grid must keep.
 * Every acknowledgement is kept with its time, so a loss can be dated
 * against the crash (the recovery point of write-behind).
 */
import type { TroupeClient } from '../../client/index.js';
import { errorCode } from '../chaos/calls.js';

export interface Ack {
  readonly total: number;
  /** Date.now() when the answer arrived. */
  readonly at: number;
}

/** One call as the client saw it. */
export interface CallOutcome {
  readonly key: string;
  readonly sentAt: number;
  readonly answeredAt: number;
  /** The new total, or the error code. */
  readonly result: number | string;
}

export class CounterLoad {
  /** Every call, in the order answered. */
  readonly calls: CallOutcome[] = [];
  /** Per key, every acknowledged total in order. */
  readonly acks = new Map<string, Ack[]>();
  /** Per key, calls sent (acknowledged or not): an upper bound for its total. */
  readonly sent = new Map<string, number>();
  readonly errors = new Map<string, number>();
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly clients: readonly TroupeClient[],
    readonly keys: readonly string[],
    private readonly lanes: number,
    private readonly timeoutMs: number,
  ) {
    for (const k of keys) {
      this.acks.set(k, []);
      this.sent.set(k, 0);
    }
  }

  /** Starts the lanes; bounded by `until` (epoch ms) and by stop(). */
  start(until: number): void {
    this.running = Promise.all(Array.from({ length: this.lanes }, (_, l) => this.lane(l, until))).then(() => {});
  }

  /** Stops issuing calls and waits for the calls in flight to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  get ackCount(): number {
    let n = 0;
    for (const a of this.acks.values()) n += a.length;
    return n;
  }

  /** The highest acknowledged total of a key (0 when none). */
  maxAcked(key: string): number {
    const a = this.acks.get(key)!;
    return a.length === 0 ? 0 : a[a.length - 1]!.total;
  }

  private async lane(l: number, until: number): Promise<void> {
    const mine = this.keys.filter((_, i) => i % this.lanes === l);
    const client = this.clients[l % this.clients.length]!;
    for (let round = 0; !this.stopped && Date.now() < until; round++) {
      const key = mine[round % mine.length]!;
      this.sent.set(key, this.sent.get(key)! + 1);
      const sentAt = Date.now();
      try {
        const total = (await client.call('Counter', key, 'add', [1], { timeout: this.timeoutMs })) as number;
        this.acks.get(key)!.push({ total, at: Date.now() });
        this.calls.push({ key, sentAt, answeredAt: Date.now(), result: total });
      } catch (err) {
        const code = errorCode(err);
        this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
        this.calls.push({ key, sentAt, answeredAt: Date.now(), result: code });
        // A grid that is down answers at once: do not spin.
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}
