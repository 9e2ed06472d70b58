/**
 * The live actors of one bulkhead on this node, and the bounds on them: at
 * most `maxActivations` actors and `maxBytes` of cached records. Past either,
 * the least recently used idle actors are forgotten (their state is in the
 * grid); when none is idle, a new actor is refused. Idle actors are also
 * forgotten after `idleMs`.
 */
import type { VersionedRecord } from '../../grid/index.js';
import type { Logger } from '../log.js';
import { Activation } from './activation.js';

export interface ActivationBounds {
  readonly maxActivations: number;
  readonly maxBytes: number;
  readonly idleMs: number;
}

export class ActivationTable {
  /**
   * By type, then key: a lookup per call with no string built for it (a
   * joined "type\0key" id was two strings per call for the collector: the
   * concatenation and its flattening for the hash).
   */
  private readonly byType = new Map<string, Map<string, Activation>>();
  /** Bytes of cached records held by live activations. */
  private bytes = 0;

  constructor(
    private readonly bounds: ActivationBounds,
    private readonly log: Logger,
    /** An idle actor was forgotten: the scheduler may release what it holds in the wake index. */
    private readonly forgotten: (act: Activation) => void,
  ) {}

  /** Live activations: summed over the types (a handful), not counted beside the maps. */
  get size(): number {
    let n = 0;
    for (const keys of this.byType.values()) n += keys.size;
    return n;
  }

  get cachedBytes(): number {
    return this.bytes;
  }

  get(type: string, key: string): Activation | undefined {
    return this.byType.get(type)?.get(key);
  }

  /** Whether `act` is still the live activation of its actor. */
  isLive(act: Activation): boolean {
    return this.byType.get(act.type)?.get(act.key) === act;
  }

  /** The actor's activation, made if needed; undefined when a new one would pass the bounds and none could be evicted. */
  getOrCreate(type: string, key: string): Activation | undefined {
    let keys = this.byType.get(type);
    let act = keys?.get(key);
    if (act === undefined) {
      if (this.full() && !this.evict()) return undefined;
      act = new Activation(type, key);
      // Looked up again: evict() may have removed this type's (emptied) map.
      keys = this.byType.get(type);
      if (keys === undefined) this.byType.set(type, (keys = new Map()));
      keys.set(key, act);
    }
    return act;
  }

  *values(): IterableIterator<Activation> {
    for (const keys of this.byType.values()) yield* keys.values();
  }

  /** Takes the actor's new cached record, keeping the byte count. */
  setRecord(act: Activation, record: VersionedRecord | undefined): void {
    this.bytes += (record?.data.byteLength ?? 0) - (act.record?.data.byteLength ?? 0);
    act.record = record;
  }

  /** Drops an activation that is no longer this node's (its shard moved): not an idle forget. */
  drop(act: Activation): void {
    const keys = this.byType.get(act.type);
    if (keys?.get(act.key) !== act) return;
    keys!.delete(act.key);
    if (keys!.size === 0) this.byType.delete(act.type);
    this.bytes -= act.record?.data.byteLength ?? 0;
  }

  /** Whether an activation may be forgotten now: nothing running, waiting or owed. */
  static idle(act: Activation): boolean {
    return act.running === null && act.waiting === 0 && !act.ready && !act.hasOutboxWork && !act.wakeQueued;
  }

  /** Forgets actors idle for longer than `idleMs`. */
  sweep(now: number): void {
    for (const act of [...this.values()]) {
      if (ActivationTable.idle(act) && now - act.lastActive > this.bounds.idleMs) this.forget(act);
    }
  }

  clear(): void {
    this.byType.clear();
    this.bytes = 0;
  }

  private full(): boolean {
    return this.size >= this.bounds.maxActivations || this.bytes >= this.bounds.maxBytes;
  }

  private forget(act: Activation): void {
    this.drop(act);
    this.forgotten(act);
  }

  /**
   * Forgets the least recently used idle actors, down to 90% of both bounds
   * (so it runs once per many new actors, not per call). Returns whether
   * there is room now.
   */
  private evict(): boolean {
    const idle = [...this.values()].filter(ActivationTable.idle);
    idle.sort((x, y) => x.lastActive - y.lastActive);
    const countGoal = Math.floor(this.bounds.maxActivations * 0.9);
    const bytesGoal = Math.floor(this.bounds.maxBytes * 0.9);
    let evicted = 0;
    for (const act of idle) {
      if (this.size <= countGoal && this.bytes <= bytesGoal) break;
      this.forget(act);
      evicted++;
    }
    if (evicted > 0) this.log.log('info', 'activations_evicted', { evicted, live: this.size, cachedBytes: this.bytes });
    return !this.full();
  }
}
