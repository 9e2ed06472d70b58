/**
 * The records of one partition in flight: at most `size` at once, those with
 * the same key strictly one after the other (an actor sees a partition's
 * records for it in log order), and the position up to which every record was
 * answered, which is all that may be committed. Records of different keys run
 * side by side, so one slow actor holds up only its own key (within the window).
 */
export class PartitionWindow {
  private inflight = 0;
  /** Offsets started and not yet done, in order; the first is the commit barrier. */
  private readonly pending: bigint[] = [];
  private readonly done = new Set<bigint>();
  /** Per key, the promise of its latest record: the next one for that key waits for it. */
  private readonly tails = new Map<string, Promise<void>>();
  private readonly waiters: (() => void)[] = [];
  /** Every offset below this was answered: the next position to commit. */
  private next: bigint | null = null;

  constructor(readonly size: number) {}

  get inFlight(): number {
    return this.inflight;
  }

  /** The position to commit (the first offset not yet answered), or null before any record was answered. */
  get committable(): bigint | null {
    return this.next;
  }

  /** Waits for room in the window; `tick` runs while waiting (a heartbeat), at most every `tickMs`. */
  async admit(tick: () => Promise<void>, tickMs = 1_000): Promise<void> {
    while (this.inflight >= this.size) {
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), new Promise((r) => setTimeout(r, tickMs))]);
      await tick();
    }
  }

  /** Starts `run` for a record once the key's previous record is done; `run` must not reject. */
  start(offset: bigint, key: string, run: () => Promise<boolean>): void {
    this.inflight++;
    this.pending.push(offset);
    const previous = this.tails.get(key) ?? Promise.resolve();
    const mine = previous.then(run).then((answered) => {
      this.inflight--;
      if (answered) this.markDone(offset);
      if (this.tails.get(key) === mine) this.tails.delete(key);
      this.waiters.splice(0).forEach((w) => w());
    });
    this.tails.set(key, mine);
  }

  /** A record that needs no call (skipped): done at once, in order with the rest. */
  skip(offset: bigint): void {
    this.pending.push(offset);
    this.markDone(offset);
  }

  /** Resolves once every started record has finished. */
  async settled(tick: () => Promise<void>, tickMs = 1_000): Promise<void> {
    while (this.inflight > 0) {
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), new Promise((r) => setTimeout(r, tickMs))]);
      await tick();
    }
  }

  private markDone(offset: bigint): void {
    this.done.add(offset);
    // Advance the barrier over the answered prefix only: a later record answered first waits for the ones before it.
    while (this.pending.length > 0 && this.done.has(this.pending[0]!)) {
      const o = this.pending.shift()!;
      this.done.delete(o);
      this.next = o + 1n;
    }
  }
}
