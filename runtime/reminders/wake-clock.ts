/**
 * One timer for every actor that needs waking: a binary min-heap of due
 * times with its position kept on each item, so changing or dropping an
 * actor's time is O(log n), and a single setTimeout armed for the earliest.
 * A timer per reminder would cost a Node timer object each and make 100,000
 * pending reminders a measurable load; the heap is one array.
 */
export interface ClockItem {
  due: number;
  /** Position in the heap; -1 when not in it. */
  heapIndex: number;
}

/** Longest single setTimeout: Node's limit is 2^31-1 ms; a later due re-arms when it passes. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Items handed out per timer callback, so a burst of due items cannot stall the event loop. */
const MAX_FIRED_PER_TICK = 5000;

export class WakeClock<T extends ClockItem> {
  private readonly heap: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private closed = false;

  constructor(private readonly onDue: (item: T) => void) {}

  get size(): number {
    return this.heap.length;
  }

  /**
   * Items due before `until` (epoch ms), counted up to `cap`: a walk of the heap that
   * stops at every item due later (its children are later still). For the dashboard.
   */
  dueBefore(until: number, cap = 10_000): number {
    let n = 0;
    const stack = this.heap.length > 0 ? [0] : [];
    while (stack.length > 0 && n < cap) {
      const i = stack.pop()!;
      if (i >= this.heap.length || this.heap[i]!.due >= until) continue;
      n++;
      stack.push(2 * i + 1, 2 * i + 2);
    }
    return n;
  }

  /** Puts the item in the heap at `due`, or moves it there. */
  set(item: T, due: number): void {
    if (this.closed) return;
    item.due = due;
    if (item.heapIndex < 0) {
      item.heapIndex = this.heap.length;
      this.heap.push(item);
      this.up(item.heapIndex);
    } else {
      this.up(item.heapIndex);
      this.down(item.heapIndex);
    }
    this.arm();
  }

  delete(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    const last = this.heap.pop()!;
    item.heapIndex = -1;
    if (i < this.heap.length) {
      this.heap[i] = last;
      last.heapIndex = i;
      this.up(i);
      this.down(i);
    }
  }

  private arm(): void {
    const first = this.heap[0];
    if (first === undefined || first.due >= this.armedFor) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedFor = first.due;
    this.timer = setTimeout(() => this.fire(), Math.min(MAX_TIMER_MS, Math.max(0, first.due - Date.now())));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = Date.now();
    for (let n = 0; n < MAX_FIRED_PER_TICK; n++) {
      const first = this.heap[0];
      if (first === undefined || first.due > now) break;
      this.delete(first);
      this.onDue(first);
    }
    if (this.heap.length > 0 && this.heap[0]!.due <= now) {
      // More were due than one callback hands out: continue on the next turn of the event loop.
      this.armedFor = now;
      this.timer = setTimeout(() => this.fire(), 0);
      this.timer.unref();
    } else {
      this.arm();
    }
  }

  private up(i: number): void {
    const h = this.heap;
    const item = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.due <= item.due) break;
      h[i] = h[p]!;
      h[i]!.heapIndex = i;
      i = p;
    }
    h[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const item = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]!.due < h[l]!.due ? r : l;
      if (h[c]!.due >= item.due) break;
      h[i] = h[c]!;
      h[i]!.heapIndex = i;
      i = c;
    }
    h[i] = item;
    item.heapIndex = i;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.heap.length = 0;
  }
}
