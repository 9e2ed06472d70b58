import type { Grid, RecordWrite, WriteOutcome } from '../grid/index.js';

/**
 * Group commit: writes submitted within one window go to the grid as one
 * batch, so grid round trips do not cap throughput. Each caller's promise
 * settles only once the grid has answered for its write.
 *
 * `windowMs` 0 means "what was submitted in this callback" (a microtask), which is the
 * right default for an in-process grid; a remote grid benefits from a small
 * window (`--commit-window`; measured in bench/README.md: 0 is best on this machine).
 */
export class GroupCommitter {
  private batch: RecordWrite[] = [];
  /** Each waiter owns writes [from, to) of the batch. */
  private waiters: { from: number; to: number; resolve: (o: WriteOutcome[]) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private inflight = 0;

  constructor(
    private readonly grid: Grid,
    private readonly windowMs: number,
    private readonly maxBatch = 1024,
    /** Told how long each grid commit took (seconds), once per batch, for troupe_commit_duration_seconds. */
    private readonly observe: (seconds: number) => void = () => {},
  ) {}

  get pending(): number {
    return this.batch.length + this.inflight;
  }

  /**
   * Adds writes to the current batch; resolves with their outcomes, in order,
   * once the grid has answered for the batch. One promise per caller batch
   * (a whole task's results), not per write.
   */
  submitMany(writes: readonly RecordWrite[]): Promise<WriteOutcome[]> {
    return new Promise((resolve, reject) => {
      const from = this.batch.length;
      for (const w of writes) this.batch.push(w);
      this.waiters.push({ from, to: this.batch.length, resolve, reject });
      if (this.batch.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        if (this.windowMs <= 0) queueMicrotask(() => this.flush());
        else setTimeout(() => this.flush(), this.windowMs);
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.batch.length === 0) return;
    const writes = this.batch;
    const waiters = this.waiters;
    this.batch = [];
    this.waiters = [];
    this.inflight += writes.length;
    const began = performance.now();
    this.grid.commit(writes).then(
      (outcomes) => {
        this.inflight -= writes.length;
        this.observe((performance.now() - began) / 1000);
        for (const w of waiters) w.resolve(outcomes.slice(w.from, w.to));
      },
      (err: unknown) => {
        this.inflight -= writes.length;
        // A failed commit counts too: a grid that times out is exactly the latency an alert should see.
        this.observe((performance.now() - began) / 1000);
        for (const w of waiters) w.reject(err);
      },
    );
  }
}
