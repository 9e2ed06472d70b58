/**
 * Deadlines for thousands of calls with one timer.
 *
 * Calls with the same timeout (usually all of them) expire in the order they
 * were made, so keeping one FIFO list per distinct timeout keeps every list
 * sorted for free: adding and removing are O(1) pointer updates, and the next
 * deadline is always one of the list heads. One setTimeout is armed for the
 * earliest head; it is re-armed only when a new deadline comes before it.
 */

/** What a deadline list holds: the SDK's pending calls embed these links. */
export interface Timed {
  deadline: number;
  prev: Timed | null;
  next: Timed | null;
  list: DeadlineList | null;
}

export class DeadlineList {
  head: Timed | null = null;
  tail: Timed | null = null;
  constructor(readonly timeoutMs: number) {}
}

/** Timers fire no earlier than asked; this much slack lets one firing take calls due a moment later. */
const SLACK_MS = 1;

export class Deadlines<T extends Timed> {
  private readonly lists = new Map<number, DeadlineList>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private armedFor = Infinity;

  constructor(
    private readonly now: () => number,
    private readonly expire: (item: T) => void,
  ) {}

  /** Tracks `item`, which expires `timeoutMs` after `start` (a reading of the `now` clock, never earlier than the last). */
  add(item: T, timeoutMs: number, start: number): void {
    let list = this.lists.get(timeoutMs);
    if (list === undefined) {
      list = new DeadlineList(timeoutMs);
      this.lists.set(timeoutMs, list);
    }
    // Every item in a list has the same timeout and `start` comes from a monotonic
    // clock, so appending keeps the list sorted by deadline.
    item.deadline = start + timeoutMs;
    item.list = list;
    item.next = null;
    item.prev = list.tail;
    if (list.tail === null) list.head = item;
    else list.tail.next = item;
    list.tail = item;
    if (item.deadline < this.armedFor - SLACK_MS) this.arm(item.deadline);
  }

  remove(item: T): void {
    const list = item.list;
    if (list === null) return;
    if (item.prev === null) list.head = item.next;
    else item.prev.next = item.next;
    if (item.next === null) list.tail = item.prev;
    else item.next.prev = item.prev;
    item.prev = item.next = item.list = null;
    if (list.head === null) this.lists.delete(list.timeoutMs);
    // The timer is left armed: when it fires it finds nothing due and re-arms for
    // the next head. Cancelling it on every reply would cost more than one idle wake-up.
  }

  /** Stops the timer; items stay linked (close() settles them itself). */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  private arm(at: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.fire, Math.max(0, Math.ceil(at - this.now())));
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.armedFor = Infinity;
    const due = this.now() + SLACK_MS;
    let next = Infinity;
    // expire() removes the item from its list (and may delete the list), so re-read heads each time.
    for (const list of this.lists.values()) {
      let head = list.head;
      while (head !== null && head.deadline <= due) {
        this.expire(head as T);
        if (head.list !== null) this.remove(head as T); // in case expire() did not
        head = list.head;
      }
      if (head !== null && head.deadline < next) next = head.deadline;
    }
    if (next !== Infinity) this.arm(next);
  };
}
