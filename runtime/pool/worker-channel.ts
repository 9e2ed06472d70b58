/**
 * The worker's end of the side channel: requests a running turn makes of the
 * main thread (calls to other actors, hot grid data), each answered by the
 * node over the down channel, and the results of groups that finished after
 * their task had answered.
 */
import { BroadcastChannel, threadId } from 'node:worker_threads';
import type { ActorGrid } from '../../actors/index.js';
import { TroupeError } from '../../protocol/errors.js';
import type { DownMessage, GridOp, UpMessage } from './protocol.js';
import { downChannel, upChannel } from './protocol.js';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer?: NodeJS.Timeout;
}

export class WorkerChannel {
  private up: BroadcastChannel | undefined;
  private nextRequest = 1;
  private readonly pending = new Map<number, Pending>();
  readonly grid: ActorGrid;

  constructor(private readonly name: string, private readonly callTimeoutMs: number) {
    const gridRequest = (op: GridOp, map: string, args: unknown[]): Promise<unknown> =>
      this.request({ k: 'grid', w: threadId, id: this.id(), op, name: map, args }, this.callTimeoutMs);
    this.grid = {
      map: (map, mapOptions) => {
        const c = mapOptions?.consistent === true;
        return {
          get: (key) => gridRequest(c ? 'cmap.get' : 'map.get', map, [key]),
          set: async (key, value, options) => void (await gridRequest(c ? 'cmap.set' : 'map.set', map, options?.fence === undefined ? [key, value] : [key, value, options.fence])),
          delete: async (key) => (await gridRequest(c ? 'cmap.delete' : 'map.delete', map, [key])) as boolean,
          keys: async () => (await gridRequest(c ? 'cmap.keys' : 'map.keys', map, [])) as string[],
        };
      },
      counter: (counter) => ({
        get: async () => (await gridRequest('counter.get', counter, [])) as number,
        addAndGet: async (delta) => (await gridRequest('counter.addAndGet', counter, [delta])) as number,
      }),
      withLock: async (lock, leaseMs, fn, options) => {
        const [id, token] = (await gridRequest('lock', lock, options?.waitMs === undefined ? [leaseMs] : [leaseMs, options.waitMs])) as [number, number];
        try {
          return await fn(token);
        } finally {
          await gridRequest('unlock', lock, [id]);
        }
      },
    };
  }

  id(): number {
    return this.nextRequest++;
  }

  /** Opened lazily: most tasks never need it. */
  private channel(): BroadcastChannel {
    if (this.up !== undefined) return this.up;
    this.up = new BroadcastChannel(upChannel(this.name));
    this.up.unref();
    const down = new BroadcastChannel(downChannel(this.name));
    down.unref();
    down.onmessage = (event) => {
      const msg = (event as unknown as { data: DownMessage }).data;
      if (msg.w !== threadId) return;
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id);
      if (p.timer !== undefined) clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(TroupeError.fromData(msg.error));
    };
    return this.up;
  }

  request(msg: UpMessage & { id: number }, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const entry: Pending = { resolve, reject };
      // The host enforces the deadline too; this timer only guarantees the turn itself can never hang.
      entry.timer = setTimeout(() => {
        this.pending.delete(msg.id);
        reject(new TroupeError('E_TIMEOUT', `call did not complete within ${timeoutMs} ms`));
      }, timeoutMs + 50);
      this.pending.set(msg.id, entry);
      this.channel().postMessage(msg);
    });
  }

  post(msg: UpMessage): void {
    this.channel().postMessage(msg);
  }
}
