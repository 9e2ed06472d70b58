/**
 * Which local actors need a turn without a message, and when: the node's
 * side of the wake index (grid/wake-index.ts).
 *
 * - For every shard this node owns it reads the shard's index entries once
 *   (at start, when it gains the shard, and again every `rescanMs` for
 *   entries other nodes wrote while views differed), and wakes each actor
 *   when its entry is due: at once for an outbox to deliver, at the due time
 *   for a reminder.
 * - The scheduler tells it what each committed record needs (`schedule`),
 *   and asks it to lower an actor's index entry before committing a record
 *   that needs an earlier wake-up than the index holds (`ensureIndexed`).
 * - Due times live in one heap with one timer (wake-clock.ts); an actor's
 *   item holds its next in-memory due time and the index entry as last seen.
 */
import type { RecordKey, WakeIndex, WakeMark } from '../../grid/index.js';
import type { Logger } from '../log.js';
import { SHARD_COUNT } from '../placement/shards.js';
import { WakeClock, type ClockItem } from './wake-clock.js';

interface WakeItem extends ClockItem, RecordKey {
  readonly shard: number;
  /** The index entry as this node last wrote or read it; undefined: not known. */
  mark: WakeMark | undefined;
  /** A removal of the entry under way: lowering must wait for it, or it would trust a mark about to vanish. */
  releasing: Promise<void> | undefined;
}

export interface WakeupsOptions {
  readonly index: WakeIndex;
  /** Whether this node owns a shard now. */
  readonly ownsShard: (shard: number) => boolean;
  /** Gives the actor a wake-up turn. */
  readonly wake: (type: string, key: string) => void;
  readonly log: Logger;
  /** How often to read every owned shard's entries again; 0: never (a single node). */
  readonly rescanMs: number;
}

/** Backoff of shard scans that failed (the grid may be down). */
const SCAN_RETRY_MS = 2_000;

export class Wakeups {
  /** By actor type, then key: no per-actor id string to keep. */
  private readonly items = new Map<string, Map<string, WakeItem>>();
  private readonly clock: WakeClock<WakeItem>;
  private readonly scanned = new Set<number>();
  private scanning = false;
  private scanAgain = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Wake-ups handed to the scheduler since start, for metrics. */
  fired = 0;

  constructor(private readonly o: WakeupsOptions) {
    this.clock = new WakeClock((item) => {
      // Out of the heap now; the wake-up turn's result puts it back if the actor still has reminders.
      item.due = Infinity;
      this.fired++;
      this.o.wake(item.type, item.key);
    });
    if (o.rescanMs > 0) {
      this.timer = setInterval(() => this.rescan(), Math.max(SCAN_RETRY_MS, o.rescanMs));
      this.timer.unref();
    }
  }

  /** Actors with a wake-up time in memory. */
  get pending(): number {
    return this.clock.size;
  }

  /** Actors whose wake-up is due within `ms` (or overdue): the dashboard's "reminders due". */
  dueWithin(ms: number): number {
    return this.clock.dueBefore(Date.now() + ms);
  }

  private find(type: string, key: string): WakeItem | undefined {
    return this.items.get(type)?.get(key);
  }

  private item(type: string, key: string, shard: number): WakeItem {
    let byKey = this.items.get(type);
    if (byKey === undefined) this.items.set(type, (byKey = new Map()));
    let item = byKey.get(key);
    if (item === undefined) {
      item = { type, key, shard, due: Infinity, heapIndex: -1, mark: undefined, releasing: undefined };
      byKey.set(key, item);
    }
    return item;
  }

  private forget(item: WakeItem): void {
    this.clock.delete(item);
    const byKey = this.items.get(item.type);
    byKey?.delete(item.key);
    if (byKey?.size === 0) this.items.delete(item.type);
  }

  /**
   * What the actor's committed record needs: a wake-up at `due` (epoch ms;
   * 0 or past: at once), or none (-1).
   */
  schedule(type: string, key: string, shard: number, due: number): void {
    if (this.closed) return;
    if (due < 0) {
      const item = this.find(type, key);
      if (item === undefined) return;
      if (item.mark === undefined) this.forget(item);
      else {
        this.clock.delete(item);
        item.due = Infinity;
      }
      return;
    }
    this.clock.set(this.item(type, key, shard), due);
  }

  /** Wakes the actor again after `delayMs` (its wake-up turn failed). */
  retry(type: string, key: string, shard: number, delayMs: number): void {
    this.schedule(type, key, shard, Date.now() + delayMs);
  }

  /**
   * Makes sure the index wakes this actor no later than `due` should this
   * node die; resolves once the entry is written, or at once when the entry
   * as last seen is already early enough.
   */
  async ensureIndexed(actor: RecordKey, shard: number, due: number): Promise<void> {
    const item = this.item(actor.type, actor.key, shard);
    while (item.releasing !== undefined) await item.releasing;
    if (item.mark !== undefined && item.mark.due <= due) return;
    item.mark = await this.o.index.lower(shard, actor, due);
  }

  /**
   * The actor needs nothing any more: removes its index entry if it still
   * holds what this node last saw. The caller has checked that the record
   * is still the version that needs nothing.
   */
  async release(actor: RecordKey, shard: number): Promise<void> {
    const item = this.find(actor.type, actor.key);
    if (item === undefined || item.releasing !== undefined) return;
    const mark = item.mark;
    if (mark === undefined) return;
    const removal = this.o.index.removeIf(shard, actor, mark).then(
      (removed) => {
        if (removed && item.mark === mark) item.mark = undefined;
      },
      () => {},
    );
    item.releasing = removal;
    await removal;
    item.releasing = undefined;
    // The actor may have scheduled something meanwhile (its clock entry set again): then it stays.
    if (item.mark === undefined && item.due === Infinity && this.find(actor.type, actor.key) === item) this.forget(item);
  }

  /** Whether the index may hold an entry for this actor that this node knows of. */
  indexed(actor: RecordKey): boolean {
    return this.find(actor.type, actor.key)?.mark !== undefined;
  }

  /** Placement changed: forget actors of shards lost (their new owner reads the index), read shards gained. */
  ownershipChanged(): void {
    for (const byKey of [...this.items.values()]) {
      for (const item of [...byKey.values()]) if (!this.o.ownsShard(item.shard)) this.forget(item);
    }
    for (const shard of [...this.scanned]) if (!this.o.ownsShard(shard)) this.scanned.delete(shard);
    this.scanOwned();
  }

  /**
   * Reads the entries of every owned shard not read yet. One read at a time:
   * a change that comes while one is under way is picked up by the next, and
   * a failed read is tried again after a pause, not once per shard.
   */
  scanOwned(): void {
    if (this.closed) return;
    if (this.scanning) {
      this.scanAgain = true;
      return;
    }
    const shards = new Set<number>();
    for (let shard = 0; shard < SHARD_COUNT; shard++) if (this.o.ownsShard(shard) && !this.scanned.has(shard)) shards.add(shard);
    if (shards.size === 0) return;
    this.scanning = true;
    this.o.index.scan(shards).then(
      (entries) => {
        const now = Date.now();
        for (const e of entries) {
          if (!this.o.ownsShard(e.shard)) continue;
          const item = this.item(e.type, e.key, e.shard);
          item.mark = e.mark;
          // An entry may be earlier than what this node knows (another node lowered it): wake by the earlier one.
          const due = Math.max(now, e.mark.due);
          if (due < item.due) this.clock.set(item, due);
        }
        for (const shard of shards) if (this.o.ownsShard(shard)) this.scanned.add(shard);
        this.scanDone(false);
      },
      (err: unknown) => {
        this.o.log.log('warn', 'wake_index_scan_failed', { shards: shards.size, error: (err as Error).message, retryMs: SCAN_RETRY_MS });
        this.scanDone(true);
      },
    );
  }

  private scanDone(failed: boolean): void {
    this.scanning = false;
    if (this.closed) return;
    if (failed) {
      setTimeout(() => this.scanOwned(), SCAN_RETRY_MS).unref();
    } else if (this.scanAgain) {
      this.scanAgain = false;
      this.scanOwned();
    }
  }

  /** The grid restarted (its store restored what it held): what this node knew of the index may be wrong; read it all again. */
  gridReset(): void {
    for (const byKey of this.items.values()) for (const item of byKey.values()) item.mark = undefined;
    this.rescan();
  }

  /** This node takes its shards over anew (it was fenced): wake-ups it gave up meanwhile are found again. */
  retakeAll(): void {
    this.rescan();
  }

  /**
   * Reads these shards' entries again (those still owned): their handoff just
   * ended, and the previous owner may have written entries after the read
   * made when they were gained.
   */
  rescanShards(shards: readonly number[]): void {
    for (const shard of shards) this.scanned.delete(shard);
    this.scanOwned();
  }

  private rescan(): void {
    this.scanned.clear();
    this.scanOwned();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.clock.close();
    this.items.clear();
  }
}
