/**
 * The chaos: every few seconds a random running node gets kill -9, and a
 * little later the same node id comes back as a new process. The last node
 * standing is never killed, so the cluster always has an owner for every
 * shard; two nodes may be down at once while one restarts.
 */
import type { ChaosCluster } from './cluster.js';
import type { Random } from './random.js';

export interface MonkeyOptions {
  /** Pause before each kill, ms, picked uniformly in [min, max]. */
  readonly killEveryMs: readonly [number, number];
  /** How long a killed node stays down before its restart begins, ms, uniformly in [min, max]. */
  readonly downForMs: readonly [number, number];
  readonly rng: Random;
  readonly progress: (message: string) => void;
}

export interface ChaosEvent {
  /** ms since the monkey started. */
  readonly t: number;
  readonly what: 'kill' | 'restart' | 'restart_failed' | 'skip';
  readonly node: string;
  readonly pid?: number;
  readonly detail?: string;
}

export class ChaosMonkey {
  kills = 0;
  restarts = 0;
  restartFailures = 0;
  readonly events: ChaosEvent[] = [];
  private stopped = false;
  private readonly pending = new Set<Promise<void>>();
  private readonly t0 = Date.now();

  constructor(private readonly cluster: ChaosCluster, private readonly o: MonkeyOptions) {}

  /** Kills and restarts until stop() or the deadline (epoch ms). */
  async run(until: number): Promise<void> {
    while (!this.stopped && Date.now() < until) {
      const wait = this.o.rng.int(this.o.killEveryMs[0], this.o.killEveryMs[1]);
      const wakeAt = Math.min(until, Date.now() + wait);
      while (!this.stopped && Date.now() < wakeAt) await sleep(Math.min(100, wakeAt - Date.now()));
      if (this.stopped || Date.now() >= until) break;
      const alive = this.cluster.alive();
      if (alive.length < 2) {
        this.record({ what: 'skip', node: '-', detail: `only ${alive.join(',') || 'no node'} running` });
        continue;
      }
      const victim = this.o.rng.pick(alive);
      const pid = await this.cluster.kill(victim);
      this.kills++;
      this.record({ what: 'kill', node: victim, pid });
      const downFor = this.o.rng.int(this.o.downForMs[0], this.o.downForMs[1]);
      const restart = this.restartLater(victim, downFor);
      this.pending.add(restart);
      void restart.finally(() => this.pending.delete(restart));
    }
  }

  /** Ends the kills, lets pending restarts finish, and starts any node still down. */
  async stop(): Promise<void> {
    this.stopped = true;
    // Restarts already scheduled may still be sleeping: wait for them.
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    for (const id of this.cluster.ids) {
      if (!this.cluster.alive().includes(id)) await this.restartNow(id);
    }
  }

  private async restartLater(id: string, downForMs: number): Promise<void> {
    await sleep(downForMs);
    await this.restartNow(id);
  }

  private async restartNow(id: string): Promise<void> {
    try {
      const pid = await this.cluster.restart(id);
      this.restarts++;
      this.record({ what: 'restart', node: id, pid });
    } catch (err) {
      this.restartFailures++;
      this.record({ what: 'restart_failed', node: id, detail: String((err as Error).message).split('\n')[0] });
    }
  }

  private record(e: Omit<ChaosEvent, 't'>): void {
    const event: ChaosEvent = { t: Date.now() - this.t0, ...e };
    this.events.push(event);
    this.o.progress(`chaos: ${event.what} ${event.node}${event.pid === undefined ? '' : ` (pid ${event.pid})`}${event.detail === undefined ? '' : `: ${event.detail}`}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
