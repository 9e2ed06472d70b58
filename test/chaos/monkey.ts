/**
 * The chaos: every few seconds one fault of the enabled kinds (faults.ts) hits
 * a random victim (each kind once per round, rounds in a shuffled order), and a little later the victim comes back: a paused node is
 * continued, a cut one healed, and (with `restart`) a killed node, member or
 * agent is started again.
 *
 * At most one fault per node at a time, and at least one node is left
 * untouched, so the cluster always has a node that can own every shard. A
 * Hazelcast member is killed only while every member runs and holds its
 * backups (the fixture's restart waits for that), so a member kill never
 * loses the grid's data: that would be a test of nothing.
 */
import type { ChaosCluster } from './cluster.js';
import type { FaultKind } from './faults.js';
import type { Random } from './random.js';

export interface MonkeyOptions {
  readonly faults: readonly FaultKind[];
  /** Pause before each fault, ms, picked uniformly in [min, max]. */
  readonly faultEveryMs: readonly [number, number];
  /** How long a killed node, member or agent stays down before its restart begins, ms. */
  readonly downForMs: readonly [number, number];
  /** How long a node stays stopped (SIGSTOP); longer than the Consul TTL. */
  readonly pauseForMs: readonly [number, number];
  /** How long a node stays cut off. */
  readonly cutForMs: readonly [number, number];
  readonly rng: Random;
  readonly progress: (message: string) => void;
}

export type ChaosEventKind = FaultKind | 'continue' | 'heal' | 'restart_failed' | 'skip';

export interface ChaosEvent {
  /** ms since the monkey started. */
  readonly t: number;
  readonly what: ChaosEventKind;
  /** Node id, `member<i>`, or `agent:<node>`. */
  readonly target: string;
  readonly pid?: number;
  readonly detail?: string;
}

/** What is wrong with a node right now; a node with none is healthy. */
type NodeTrouble = 'killed' | 'paused' | 'cut' | 'agent';

export class ChaosMonkey {
  /** Faults injected, by kind (`restart`: things started again). */
  readonly injected: Record<FaultKind, number> = { kill: 0, pause: 0, partition: 0, member: 0, agent: 0, restart: 0 };
  restartFailures = 0;
  readonly events: ChaosEvent[] = [];
  private stopped = false;
  private readonly trouble = new Map<string, NodeTrouble>();
  private memberDown = false;
  private readonly pending = new Set<Promise<void>>();
  /** Epoch ms the monkey started: its events' `t` counts from here. */
  readonly t0 = Date.now();
  private readonly kinds: FaultKind[];

  constructor(private readonly cluster: ChaosCluster, private readonly o: MonkeyOptions) {
    this.kinds = o.faults.filter((f) => f !== 'restart');
    if (o.faults.includes('partition') && !cluster.lab) throw new Error('the partition fault needs the lab topology');
    if (o.faults.includes('agent') && !cluster.lab) throw new Error('the agent fault needs the lab topology (an agent per node)');
  }

  /** Legacy name of the kill count. */
  get kills(): number {
    return this.injected.kill;
  }

  get restarts(): number {
    return this.injected.restart;
  }

  /** Injects faults until stop() or the deadline (epoch ms). */
  async run(until: number): Promise<void> {
    if (this.kinds.length === 0) return;
    let round: FaultKind[] = [];
    while (!this.stopped && Date.now() < until) {
      const wait = this.o.rng.int(this.o.faultEveryMs[0], this.o.faultEveryMs[1]);
      const wakeAt = Math.min(until, Date.now() + wait);
      while (!this.stopped && Date.now() < wakeAt) await sleep(Math.min(100, wakeAt - Date.now()));
      if (this.stopped || Date.now() >= until) break;
      // Rounds: every kind once per round, in a shuffled order, so even a short run sees each
      // kind; a kind with no victim now gives its turn to the next one of the round.
      if (round.length === 0) round = this.shuffled();
      let done = false;
      for (const kind of [...round]) {
        if (await this.inject(kind)) {
          round.splice(round.indexOf(kind), 1);
          done = true;
          break;
        }
      }
      if (!done) this.record({ what: 'skip', target: '-', detail: `no victim for ${round.join('/')}: ${[...this.trouble].map(([n, t]) => `${n} ${t}`).join(', ') || 'member down'}` });
    }
  }

  /** Ends the faults, lets pending recoveries finish, and brings back whatever is still down. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    if (this.memberDown) await this.restartMember();
    for (const [id, t] of [...this.trouble]) {
      if (t === 'agent') await this.restartAgent(id);
      else if (t === 'killed') await this.restartNode(id);
    }
    for (const id of this.cluster.ids) {
      if (!this.cluster.alive().includes(id) && !this.trouble.has(id)) await this.restartNode(id);
    }
  }

  /** The enabled kinds in a random order (Fisher-Yates on the run's seeded source). */
  private shuffled(): FaultKind[] {
    const out = [...this.kinds];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.o.rng.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  private healthy(): string[] {
    return this.cluster.alive().filter((id) => !this.trouble.has(id));
  }

  /** A healthy node to hit, leaving at least one other healthy; undefined when there is none. */
  private victim(): string | undefined {
    const healthy = this.healthy();
    return healthy.length < 2 ? undefined : this.o.rng.pick(healthy);
  }

  private async inject(kind: FaultKind): Promise<boolean> {
    const restart = this.o.faults.includes('restart');
    if (kind === 'member') {
      if (this.memberDown || this.cluster.grid.members.length < 2) return false;
      const index = this.o.rng.int(0, this.cluster.grid.members.length - 1);
      const pid = this.cluster.grid.members[index]!.pid;
      this.cluster.grid.kill(index);
      this.memberDown = true;
      this.injected.member++;
      this.record({ what: 'member', target: `member${index}`, pid });
      if (restart) this.later(this.o.downForMs, () => this.restartMember(index));
      return true;
    }
    const id = this.victim();
    if (id === undefined) return false;
    switch (kind) {
      case 'kill': {
        this.trouble.set(id, 'killed');
        const pid = await this.cluster.kill(id);
        this.injected.kill++;
        this.record({ what: 'kill', target: id, pid });
        if (restart) this.later(this.o.downForMs, () => this.restartNode(id));
        return true;
      }
      case 'pause': {
        if (!this.cluster.freeze(id)) return false;
        this.trouble.set(id, 'paused');
        const ms = this.o.rng.int(this.o.pauseForMs[0], this.o.pauseForMs[1]);
        this.injected.pause++;
        this.record({ what: 'pause', target: id, detail: `${ms} ms` });
        this.later([ms, ms], async () => {
          this.cluster.thaw(id);
          this.trouble.delete(id);
          this.record({ what: 'continue', target: id });
        });
        return true;
      }
      case 'partition': {
        this.trouble.set(id, 'cut');
        this.cluster.cut(id);
        const ms = this.o.rng.int(this.o.cutForMs[0], this.o.cutForMs[1]);
        this.injected.partition++;
        this.record({ what: 'partition', target: id, detail: `${ms} ms` });
        this.later([ms, ms], async () => {
          this.cluster.heal(id);
          await this.cluster.rejoinAgent(id);
          this.trouble.delete(id);
          this.record({ what: 'heal', target: id });
        });
        return true;
      }
      case 'agent': {
        this.trouble.set(id, 'agent');
        const agent = this.cluster.agentOf(id);
        const pid = agent.pid;
        await agent.kill();
        this.injected.agent++;
        this.record({ what: 'agent', target: `agent:${id}`, ...(pid === undefined ? {} : { pid }) });
        if (restart) this.later(this.o.downForMs, () => this.restartAgent(id));
        return true;
      }
      default:
        return false;
    }
  }

  /** Runs `fn` after a delay picked in `range`; stop() waits for it. */
  private later(range: readonly [number, number], fn: () => Promise<void>): void {
    const p = sleep(this.o.rng.int(range[0], range[1])).then(fn).catch((err: unknown) => {
      this.restartFailures++;
      this.record({ what: 'restart_failed', target: '-', detail: String((err as Error).message).split('\n')[0] });
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async restartNode(id: string): Promise<void> {
    try {
      const pid = await this.cluster.restart(id);
      this.injected.restart++;
      this.record({ what: 'restart', target: id, pid });
    } catch (err) {
      this.restartFailures++;
      this.record({ what: 'restart_failed', target: id, detail: String((err as Error).message).split('\n')[0] });
    } finally {
      this.trouble.delete(id);
    }
  }

  private async restartAgent(id: string): Promise<void> {
    try {
      const agent = this.cluster.agentOf(id);
      await agent.start();
      this.injected.restart++;
      this.record({ what: 'restart', target: `agent:${id}`, ...(agent.pid === undefined ? {} : { pid: agent.pid }) });
    } catch (err) {
      this.restartFailures++;
      this.record({ what: 'restart_failed', target: `agent:${id}`, detail: String((err as Error).message).split('\n')[0] });
    } finally {
      this.trouble.delete(id);
    }
  }

  private async restartMember(index?: number): Promise<void> {
    const members = this.cluster.grid.members;
    const i = index ?? members.findIndex((_, j) => !this.cluster.memberAlive(j));
    if (i < 0) {
      this.memberDown = false;
      return;
    }
    try {
      await this.cluster.grid.restart(i);
      this.injected.restart++;
      this.record({ what: 'restart', target: `member${i}`, pid: this.cluster.grid.members[i]!.pid });
    } catch (err) {
      this.restartFailures++;
      this.record({ what: 'restart_failed', target: `member${i}`, detail: String((err as Error).message).split('\n')[0] });
    } finally {
      this.memberDown = false;
    }
  }

  private record(e: Omit<ChaosEvent, 't'>): void {
    const event: ChaosEvent = { t: Date.now() - this.t0, ...e };
    this.events.push(event);
    this.o.progress(`chaos: ${event.what} ${event.target}${event.pid === undefined ? '' : ` (pid ${event.pid})`}${event.detail === undefined ? '' : `: ${event.detail}`}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
