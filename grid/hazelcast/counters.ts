import { randomBytes } from 'node:crypto';
import type { IMap } from 'hazelcast-client';
import { Errors } from '../../protocol/errors.js';

/**
 * Cluster-wide counters as entries of one IMap (`troupe.counters`), updated
 * with compare-and-set.
 *
 * Why not the obvious structures: IAtomicLong lives in the CP subsystem,
 * which is Enterprise-only in Hazelcast 5.5+ and which hazelcast-client 5.6
 * refuses outright ("CP subsystem is an Enterprise feature"). PNCounter works
 * on the open-source member but is a CRDT: two nodes adding at once can both
 * be told the same value, and an increment not yet replicated is lost with
 * its member. An IMap entry has one owner and a synchronous backup, so
 * addAndGet is linearizable and survives the loss of a member.
 *
 * Contention is handled locally first: concurrent addAndGet calls for one
 * counter on this node are merged into a single compare-and-set, and each
 * caller gets its own running total, so a hot counter costs one round trip per
 * batch instead of a retry storm.
 *
 * Stored value: 8-byte float64 (a JS number, as on the embedded grid) then 8
 * random bytes. The random tail makes every written value unique, so a
 * compare-and-set that the client replayed after a lost reply is recognised
 * as our own (current bytes == attempted bytes) and not applied twice.
 */
export class Counters {
  private readonly queues = new Map<string, { delta: number; resolve: (v: number) => void; reject: (e: unknown) => void }[]>();
  private readonly draining = new Set<string>();
  /** Last stored bytes seen per counter: usually saves the read before the compare-and-set. */
  private readonly last = new Map<string, Buffer>();

  constructor(
    private readonly map: () => IMap<string, Buffer> | Promise<IMap<string, Buffer>>,
    private readonly timeoutMs: number,
  ) {}

  async get(name: string): Promise<number> {
    const stored = await (await this.map()).get(name);
    return stored == null ? 0 : stored.readDoubleBE(0);
  }

  addAndGet(name: string, delta: number): Promise<number> {
    if (typeof delta !== 'number' || !Number.isFinite(delta)) throw new TypeError(`counter delta must be a finite number, got ${String(delta)}`);
    return new Promise<number>((resolve, reject) => {
      let q = this.queues.get(name);
      if (q === undefined) this.queues.set(name, (q = []));
      q.push({ delta, resolve, reject });
      if (!this.draining.has(name)) void this.drain(name);
    });
  }

  clear(): void {
    this.last.clear();
  }

  private async drain(name: string): Promise<void> {
    this.draining.add(name);
    try {
      for (let q = this.queues.get(name); q !== undefined && q.length > 0; q = this.queues.get(name)) {
        const batch = q.splice(0);
        const total = batch.reduce((sum, b) => sum + b.delta, 0);
        try {
          let running = (await this.compareAndAdd(name, total)) - total;
          for (const b of batch) b.resolve((running += b.delta));
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.draining.delete(name);
      this.queues.delete(name);
    }
  }

  private async compareAndAdd(name: string, delta: number): Promise<number> {
    const map = await this.map();
    const deadline = Date.now() + this.timeoutMs;
    let current: Buffer | null | undefined = this.last.get(name);
    for (let attempt = 0; ; attempt++) {
      if (current === undefined) current = await map.get(name);
      const value = (current == null ? 0 : current.readDoubleBE(0)) + delta;
      const next = Buffer.concat([doubleBytes(value), randomBytes(8)]);
      const won = current == null ? (await map.putIfAbsent(name, next)) == null : await map.replaceIfSame(name, current, next);
      if (won) {
        this.last.set(name, next);
        return value;
      }
      current = await map.get(name);
      if (current != null && current.equals(next)) {
        this.last.set(name, next);
        return value;
      }
      if (Date.now() > deadline) throw Errors.timeout(this.timeoutMs, `counter '${name}' update (contended)`);
      // Other nodes are updating it too: back off a little, growing, with jitter.
      if (attempt >= 2) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
    }
  }
}

function doubleBytes(v: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleBE(v, 0);
  return b;
}
