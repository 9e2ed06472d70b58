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
  private readonly byId = new Map<string, Activation>();
  /** Bytes of cached records held by live activations. */
  private bytes = 0;

  constructor(
    private readonly bounds: ActivationBounds,
    private readonly log: Logger,
    /** An idle actor was forgotten: the scheduler may release what it holds in the wake index. */
    private readonly forgotten: (act: Activation) => void,
  ) {}

  static id(type: string, key: string): string {
    return type + '\u0000' + key;
  }

  get size(): number {
    return this.byId.size;
  }

  get cachedBytes(): number {
    return this.bytes;
  }

  get(type: string, key: string): Activation | undefined {
    return this.byId.get(ActivationTable.id(type, key));
  }

  /** Whether `act` is still the live activation of its actor. */
  isLive(act: Activation): boolean {
    return this.byId.get(ActivationTable.id(act.type, act.key)) === act;
  }

  /** The actor's activation, made if needed; undefined when a new one would pass the bounds and none could be evicted. */
  getOrCreate(type: string, key: string): Activation | undefined {
    const id = ActivationTable.id(type, key);
    let act = this.byId.get(id);
    if (act === undefined) {
      if (this.full() && !this.evict()) return undefined;
      act = new Activation(type, key);
      this.byId.set(id, act);
    }
    return act;
  }

  values(): IterableIterator<Activation> {
    return this.byId.values();
  }

  /** Takes the actor's new cached record, keeping the byte count. */
  setRecord(act: Activation, record: VersionedRecord | undefined): void {
    this.bytes += (record?.data.byteLength ?? 0) - (act.record?.data.byteLength ?? 0);
    act.record = record;
  }

  /** Drops an activation that is no longer this node's (its shard moved): not an idle forget. */
  drop(act: Activation): void {
    const id = ActivationTable.id(act.type, act.key);
    if (this.byId.get(id) !== act) return;
    this.byId.delete(id);
    this.bytes -= act.record?.data.byteLength ?? 0;
  }

  /** Whether an activation may be forgotten now: nothing running, waiting or owed. */
  static idle(act: Activation): boolean {
    return act.running === null && act.waiting === 0 && !act.ready && !act.hasOutboxWork && !act.wakeQueued;
  }

  /** Forgets actors idle for longer than `idleMs`. */
  sweep(now: number): void {
    for (const act of [...this.byId.values()]) {
      if (ActivationTable.idle(act) && now - act.lastActive > this.bounds.idleMs) this.forget(act);
    }
  }

  clear(): void {
    this.byId.clear();
    this.bytes = 0;
  }

  private full(): boolean {
    return this.byId.size >= this.bounds.maxActivations || this.bytes >= this.bounds.maxBytes;
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
    const idle = [...this.byId.values()].filter(ActivationTable.idle);
    idle.sort((x, y) => x.lastActive - y.lastActive);
    const countGoal = Math.floor(this.bounds.maxActivations * 0.9);
    const bytesGoal = Math.floor(this.bounds.maxBytes * 0.9);
    let evicted = 0;
    for (const act of idle) {
      if (this.byId.size <= countGoal && this.bytes <= bytesGoal) break;
      this.forget(act);
      evicted++;
    }
    if (evicted > 0) this.log.log('info', 'activations_evicted', { evicted, live: this.byId.size, cachedBytes: this.bytes });
    return !this.full();
  }
}
