/**
 * Bulkheads: each group of actor types runs on its own worker pool with its
 * own bounded backlog, so a type that spins the CPU, hangs or floods cannot
 * starve the others. Types not named in any group share the `default` one.
 *
 * Spec (flag --bulkheads / TROUPE_BULKHEADS), groups separated by `;`:
 *
 *     name:TypeA,TypeB[:threads=N][:min-threads=N][:queue=N]
 *
 * e.g. `billing:Account,Transfer:threads=2:queue=5000;untrusted:Plugin:threads=1:queue=100`
 */
import type { Envelope } from './envelope.js';
import type { TurnPool } from './pool/turn-pool.js';
import type { TurnScheduler } from './turn-scheduler.js';

export interface BulkheadSpec {
  readonly name: string;
  readonly types: readonly string[];
  readonly maxThreads: number;
  readonly minThreads: number;
  readonly maxQueued: number;
}

export class BulkheadSpecError extends Error {
  override name = 'BulkheadSpecError';
}

/** Parses the spec; `defaults` fill what a group leaves out. Throws naming the bad part. */
export function parseBulkheads(spec: string, defaults: { maxThreads: number; minThreads: number; maxQueued: number }): BulkheadSpec[] {
  const out: BulkheadSpec[] = [];
  const seenTypes = new Set<string>();
  for (const raw of spec.split(';').map((s) => s.trim()).filter((s) => s !== '')) {
    const [name, typeList, ...opts] = raw.split(':');
    if (name === undefined || !/^[A-Za-z0-9_.-]+$/.test(name) || name === 'default') {
      throw new BulkheadSpecError(`bulkhead '${raw}': the name must be letters, digits, _ . - (and not 'default')`);
    }
    if (out.some((b) => b.name === name)) throw new BulkheadSpecError(`bulkhead '${name}' is defined twice`);
    const types = (typeList ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
    if (types.length === 0) throw new BulkheadSpecError(`bulkhead '${name}' names no actor types`);
    for (const t of types) {
      if (seenTypes.has(t)) throw new BulkheadSpecError(`actor type '${t}' is in two bulkheads`);
      seenTypes.add(t);
    }
    let { maxThreads, minThreads, maxQueued } = defaults;
    for (const opt of opts) {
      const m = /^(threads|min-threads|queue)=(\d+)$/.exec(opt.trim());
      if (m === null) throw new BulkheadSpecError(`bulkhead '${name}': '${opt}' is not threads=N, min-threads=N or queue=N`);
      const v = Number(m[2]);
      if (v < 1) throw new BulkheadSpecError(`bulkhead '${name}': ${m[1]} must be at least 1`);
      if (m[1] === 'threads') maxThreads = v;
      else if (m[1] === 'min-threads') minThreads = v;
      else maxQueued = v;
    }
    out.push({ name, types, maxThreads, minThreads: Math.min(minThreads, maxThreads), maxQueued });
  }
  return out;
}

/** One bulkhead as running: its pool and the scheduler that feeds it. */
export interface Bulkhead {
  readonly name: string;
  readonly pool: TurnPool;
  readonly scheduler: TurnScheduler;
}

/** Routes each actor type's turns to its bulkhead, and adds up their figures. */
export class Bulkheads {
  private readonly byType = new Map<string, Bulkhead>();

  constructor(readonly all: readonly Bulkhead[], types: ReadonlyMap<string, string>) {
    const byName = new Map(all.map((b) => [b.name, b]));
    for (const [type, group] of types) this.byType.set(type, byName.get(group)!);
  }

  private fallback(): Bulkhead {
    return this.all.find((b) => b.name === 'default') ?? this.all[0]!;
  }

  enqueue(env: Envelope): void {
    (this.byType.get(env.type) ?? this.fallback()).scheduler.enqueue(env);
  }

  wake(type: string, key: string): void {
    (this.byType.get(type) ?? this.fallback()).scheduler.wake(type, key);
  }

  /** Tells being delivered from outboxes, and what became of those that were. */
  outboxStats(): { pending: number; delivered: number; retries: number; undeliverable: number } {
    const out = { pending: 0, delivered: 0, retries: 0, undeliverable: 0 };
    for (const b of this.all) {
      out.pending += b.scheduler.outbox.pending;
      out.delivered += b.scheduler.outbox.delivered;
      out.retries += b.scheduler.outbox.retries;
      out.undeliverable += b.scheduler.outbox.undeliverable;
    }
    return out;
  }

  get queued(): number {
    return this.all.reduce((n, b) => n + b.scheduler.queued, 0);
  }

  get activeActors(): number {
    return this.all.reduce((n, b) => n + b.scheduler.activeActors, 0);
  }

  get inflightGroups(): number {
    return this.all.reduce((n, b) => n + b.scheduler.inflightGroups, 0);
  }

  ownershipChanged(): void {
    for (const b of this.all) b.scheduler.ownershipChanged();
  }

  async drain(ms: number): Promise<void> {
    await Promise.all(this.all.map((b) => b.scheduler.drain(ms)));
  }

  close(): void {
    for (const b of this.all) b.scheduler.close();
  }

  async closePools(): Promise<void> {
    await Promise.all(this.all.map((b) => b.pool.close()));
  }
}
