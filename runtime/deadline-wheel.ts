/**
 * Deadlines for every call in flight without a timer per call: entries go
 * into buckets of `resolutionMs`, one interval timer expires whole buckets.
 * At hundreds of thousands of calls a second, a setTimeout each costs more
 * than the turn itself. A deadline fires up to one resolution late.
 */
export interface Expirable {
  /** Bucket the entry sits in; owned by the wheel. */
  wheelSlot: number;
  expire(): void;
}

export class DeadlineWheel<T extends Expirable> {
  private readonly buckets = new Map<number, Set<T>>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly resolutionMs = 25) {
    this.timer = setInterval(() => this.tick(), resolutionMs);
    this.timer.unref();
  }

  add(entry: T, deadline: number): void {
    const slot = Math.ceil(deadline / this.resolutionMs);
    let bucket = this.buckets.get(slot);
    if (bucket === undefined) {
      bucket = new Set();
      this.buckets.set(slot, bucket);
    }
    bucket.add(entry);
    entry.wheelSlot = slot;
  }

  remove(entry: T): void {
    if (entry.wheelSlot === 0) return;
    this.buckets.get(entry.wheelSlot)?.delete(entry);
    entry.wheelSlot = 0;
  }

  get size(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.size;
    return n;
  }

  private tick(): void {
    const now = Math.floor(Date.now() / this.resolutionMs);
    for (const [slot, bucket] of this.buckets) {
      if (slot > now) continue;
      this.buckets.delete(slot);
      for (const entry of bucket) {
        entry.wheelSlot = 0;
        entry.expire();
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.buckets.clear();
  }
}
