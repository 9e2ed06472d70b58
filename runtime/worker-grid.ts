/**
 * The node's side of the hot-data requests a running turn makes
 * (`this.grid` in a handler): maps, counters and locks, served from the
 * node's grid. Locks are held here, by the node, for the worker thread that
 * took them; when that thread dies (a crash, a stuck turn ended) its locks
 * are released at once rather than at the end of their lease.
 */
import type { Grid, GridLockHandle } from '../grid/index.js';
import type { GridOp } from './pool/protocol.js';

const CONSISTENT = { consistent: true } as const;

export class WorkerGrid {
  private readonly locks = new Map<number, { handle: GridLockHandle; thread: number }>();
  private nextLock = 1;

  constructor(private readonly grid: Grid) {}

  async serve(op: GridOp, name: string, args: readonly unknown[], thread: number): Promise<unknown> {
    switch (op) {
      case 'map.get': return this.grid.map(name).get(args[0] as string);
      case 'map.set': return this.grid.map(name).set(args[0] as string, args[1], args[2] as number | undefined);
      case 'map.delete': return this.grid.map(name).delete(args[0] as string);
      case 'map.keys': return this.grid.map(name).keys();
      case 'cmap.get': return this.grid.map(name, CONSISTENT).get(args[0] as string);
      case 'cmap.set': return this.grid.map(name, CONSISTENT).set(args[0] as string, args[1], args[2] as number | undefined);
      case 'cmap.delete': return this.grid.map(name, CONSISTENT).delete(args[0] as string);
      case 'cmap.keys': return this.grid.map(name, CONSISTENT).keys();
      case 'counter.get': return this.grid.counter(name).get();
      case 'counter.addAndGet': return this.grid.counter(name).addAndGet(args[0] as number);
      case 'lock': {
        const handle = await this.grid.lock(name, args[0] as number, args[1] as number | undefined);
        const id = this.nextLock++;
        this.locks.set(id, { handle, thread });
        return [id, handle.token];
      }
      case 'unlock': {
        const id = args[0] as number;
        const held = this.locks.get(id);
        this.locks.delete(id);
        await held?.handle.release();
        return true;
      }
    }
  }

  /** The thread died: its locks go at once. */
  threadGone(thread: number): void {
    for (const [id, held] of this.locks) {
      if (held.thread !== thread) continue;
      this.locks.delete(id);
      held.handle.release().catch(() => {});
    }
  }

  async close(): Promise<void> {
    for (const held of this.locks.values()) await held.handle.release().catch(() => {});
    this.locks.clear();
  }
}
