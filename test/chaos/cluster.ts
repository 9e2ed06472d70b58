/**
 * The chaos run's cluster: real Consul, real Hazelcast members and N Troupe
 * node processes that can be killed with SIGKILL and started again, paused,
 * cut off (in the lab topology, see topology.ts), or lose their Consul agent.
 *
 * Each node keeps its gateway port across restarts (a restarted machine comes
 * back at the same address), so clients only ever know one fixed URL list and
 * find a restarted node by reconnecting. Every process is stopped by its PID:
 * the fixtures' exit hooks cover a runner that dies.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { freePort } from '../../runtime/cli/free-port.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsulAgent } from '../fixtures/consul.js';
import { startHazelcast, type HazelcastFixture, type HazelcastFixtureOptions } from '../fixtures/hazelcast.js';
import { MODULES } from '../fixtures/node.js';
import { isAlive } from '../../runtime/cli/hazelcast/members.js';
import { spawnNode, type NodeProcess } from '../fixtures/node-process.js';
import { labTopology, loopbackTopology, type NodePlace, type Topology } from './topology.js';

/** Links between nodes are authenticated; any ≥16-character secret will do on loopback. */
const SECRET = 'troupe-chaos-secret-0123456789';
const JOURNAL_READER = fileURLToPath(new URL('./journal-reader.js', import.meta.url));
/** Attempts to start a node on its port again (the port may linger a moment after a kill). */
const RESTART_ATTEMPTS = 5;

export interface ClusterOptions {
  readonly nodes: number;
  readonly sagaScanMs: number;
  readonly sagaStaleMs: number;
  /** Appended to every node's flags. */
  readonly nodeFlags: readonly string[];
  /** Each node process's log lines are written here as `<node>-<pid>.jsonl` when it ends. */
  readonly logDir: string;
  readonly progress: (message: string) => void;
  /** The grid's members: one, in memory, unless told otherwise (the durable-tier tests give three with a store). */
  readonly hazelcast?: HazelcastFixtureOptions;
  /** `loopback` (default): one shared dev agent on 127.0.0.1; `lab`: a namespace and a Consul client agent per node (topology.ts). */
  readonly topology?: 'loopback' | 'lab';
}

interface Slot {
  readonly id: string;
  readonly index: number;
  readonly port: number;
  readonly place: NodePlace;
  /** The running process; undefined while the node is down or starting. */
  proc: NodeProcess | undefined;
  starting: boolean;
}

interface Ready {
  status?: string;
  cluster?: { members?: string[] };
}


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ChaosCluster {
  private readonly slots: Slot[];
  /** Every node process started in this run, dead or alive, for counting log events. */
  private readonly processes: NodeProcess[] = [];
  private stopped = false;

  private constructor(
    private readonly o: ClusterOptions,
    private readonly topology: Topology,
    private readonly hz: HazelcastFixture,
    ports: readonly number[],
  ) {
    this.slots = ports.map((port, i) => ({ id: `n${i + 1}`, index: i, port, place: topology.places[i]!, proc: undefined, starting: false }));
    mkdirSync(o.logDir, { recursive: true });
  }

  /** Starts Consul, Hazelcast and every node, and waits until each node sees all the others. */
  static async start(o: ClusterOptions): Promise<ChaosCluster> {
    const lab = o.topology === 'lab';
    o.progress(lab ? `lab topology: a Consul server and a client agent per node, each node in a network namespace of its own` : 'starting a Consul agent');
    const topology = lab ? await labTopology(o.nodes, o.progress) : await loopbackTopology(o.nodes);
    const hzOptions: HazelcastFixtureOptions = { members: 1, ...o.hazelcast, ...(topology.gridBind === undefined ? {} : { bind: topology.gridBind }) };
    o.progress(`starting ${hzOptions.members} Hazelcast member(s)${hzOptions.store === undefined ? '' : ` (${hzOptions.store.mode} to PostgreSQL)`}`);
    let hz: HazelcastFixture;
    try {
      hz = await startHazelcast(hzOptions);
    } catch (err) {
      // Stop what did start, by PID, before reporting what did not.
      await topology.remove();
      throw err;
    }
    const ports: number[] = [];
    while (ports.length < o.nodes) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    const cluster = new ChaosCluster(o, topology, hz, ports);
    try {
      o.progress(`starting ${o.nodes} nodes on ports ${ports.join(', ')}`);
      await Promise.all(cluster.slots.map((s) => cluster.launch(s)));
      await cluster.waitForMembers(60_000);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** The Hazelcast members, for tests that crash the grid itself. */
  get grid(): HazelcastFixture {
    return this.hz;
  }

  /** The gateway URLs of every node, fixed for the whole run. */
  get urls(): string[] {
    return this.slots.map((s) => `ws://${s.place.clientHost}:${s.port}/v1/ws`);
  }

  /** Whether nodes run in network namespaces of their own (partitions possible). */
  get lab(): boolean {
    return this.topology.kind === 'lab';
  }

  get ids(): string[] {
    return this.slots.map((s) => s.id);
  }

  /** Ids of the nodes running now (not killed, not still starting). */
  alive(): string[] {
    return this.slots.filter((s) => s.proc !== undefined).map((s) => s.id);
  }

  /** kill -9 of one node; resolves once the process is gone. */
  async kill(id: string): Promise<number> {
    const slot = this.slot(id);
    const proc = slot.proc;
    if (proc === undefined) throw new Error(`node ${id} is not running`);
    slot.proc = undefined;
    proc.kill('SIGKILL');
    await proc.exited();
    this.saveLogs(slot.id, proc);
    return proc.pid;
  }

  /**
   * Starts a node that is down again, same id and port, new process. `env`
   * adds environment variables for this process only (TROUPE_FAILPOINTS, say).
   */
  async restart(id: string, env: Record<string, string> = {}): Promise<number> {
    const slot = this.slot(id);
    if (slot.proc !== undefined || slot.starting) throw new Error(`node ${id} is running or starting`);
    await this.launch(slot, env);
    return slot.proc!.pid;
  }

  /** The run's Consul agent every node uses (loopback), or the lab's server (stop it to take discovery away from every node). */
  get agent(): ConsulAgent {
    return this.topology.server;
  }

  /** The Consul agent node `id` talks to: its own in the lab topology. */
  agentOf(id: string): ConsulAgent {
    return this.slot(id).place.agent;
  }

  /** Lab only: takes node `id`'s link to the bridge down (peers, grid, Consul server) / up again. */
  cut(id: string): void {
    this.topology.cut(this.slot(id).index);
  }

  heal(id: string): void {
    this.topology.heal(this.slot(id).index);
  }

  /**
   * After a heal: asks the node's agent to join the server again at once.
   * Serf tries a member it counted failed again only every 30 s; a cut longer
   * than its suspicion timeout would otherwise keep the healed node out that
   * long, which tests Consul's patience, not Troupe. Best effort.
   */
  async rejoinAgent(id: string): Promise<void> {
    const agent = this.agentOf(id);
    if (agent === this.topology.server) return;
    try {
      await fetch(`${agent.url}/v1/agent/join/${this.topology.server.serfAddress}`, { method: 'PUT', signal: AbortSignal.timeout(5000) });
    } catch {
      // The periodic reconnect gets there too.
    }
  }

  /** Whether Hazelcast member `index`'s current process runs. */
  memberAlive(index: number): boolean {
    return isAlive(this.hz.members[index]!.pid);
  }

  /** SIGSTOP of a node's process (see thaw); false when it is not running. */
  freeze(id: string): boolean {
    const proc = this.slot(id).proc;
    if (proc === undefined) return false;
    proc.kill('SIGSTOP');
    return true;
  }

  thaw(id: string): void {
    this.slot(id).proc?.kill('SIGCONT');
  }

  /** The node's gateway URL (fixed across restarts). */
  url(id: string): string {
    return `ws://${this.slot(id).place.clientHost}:${this.slot(id).port}/v1/ws`;
  }

  /** SIGSTOP of a node's process for `ms`, then SIGCONT: a long GC pause, a stopped VM. */
  async pause(id: string, ms: number): Promise<void> {
    const proc = this.slot(id).proc;
    if (proc === undefined) throw new Error(`node ${id} is not running`);
    proc.kill('SIGSTOP');
    try {
      await sleep(ms);
    } finally {
      proc.kill('SIGCONT');
    }
  }

  /** Resolves when the node's current process ends, by itself (a failpoint) or by a kill. */
  async exited(id: string): Promise<number | null> {
    const proc = this.slot(id).proc;
    return proc === undefined ? null : proc.exited();
  }

  /**
   * Waits until every node is up, ready, and lists all nodes as members: the
   * state in which the settle phase's resumers cover every shard.
   */
  async waitForMembers(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let views: string[] = [];
    while (Date.now() < deadline) {
      views = await Promise.all(this.slots.map(async (s) => {
        if (s.proc === undefined) return `${s.id}: down`;
        try {
          const r = (await (await fetch(`http://${s.place.clientHost}:${s.port}/health/ready`, { signal: AbortSignal.timeout(2000) })).json()) as Ready;
          return `${s.id}: ${r.status ?? '?'} ${JSON.stringify(r.cluster?.members ?? null)}`;
        } catch (err) {
          return `${s.id}: ${(err as Error).message}`;
        }
      }));
      const all = views.every((v) => {
        const m = /: ready (\[.*\])$/.exec(v);
        return m !== null && (JSON.parse(m[1]!) as string[]).length === this.slots.length;
      });
      if (all) return;
      await sleep(200);
    }
    throw new Error(`the nodes did not all see ${this.slots.length} members within ${timeoutMs} ms: ${views.join('; ')}`);
  }

  /** How many log lines with this `event` every node process of the run wrote, by event name. */
  countLogEvents(events: readonly string[]): Record<string, number> {
    const counts: Record<string, number> = Object.fromEntries(events.map((e) => [e, 0]));
    for (const p of this.processes) {
      for (const line of p.logs) {
        const e = line.event;
        if (typeof e === 'string' && e in counts) counts[e]!++;
      }
    }
    return counts;
  }

  /** Every `saga_resume` line of the run's node processes: which saga, in which phase, on which node, when. */
  sagaResumes(): { saga: string; phase: string; node: string; t: string }[] {
    const out: { saga: string; phase: string; node: string; t: string }[] = [];
    for (const p of this.processes) {
      for (const l of p.logs) {
        if (l.event === 'saga_resume') out.push({ saga: String(l.saga), phase: String(l.phase), node: String(l.node), t: String(l.t) });
      }
    }
    return out;
  }

  /** Stops every node (SIGTERM, then SIGKILL), then Hazelcast and Consul. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.slots.map(async (s) => {
      const proc = s.proc;
      s.proc = undefined;
      if (proc === undefined) return;
      await proc.stop(5000);
      this.saveLogs(s.id, proc);
    }));
    await this.hz.stop();
    await this.topology.remove();
  }

  private slot(id: string): Slot {
    const slot = this.slots.find((s) => s.id === id);
    if (slot === undefined) throw new Error(`no node ${id}`);
    return slot;
  }

  private async launch(slot: Slot, env: Record<string, string> = {}): Promise<void> {
    slot.starting = true;
    const actors = [...Object.values(MODULES), JOURNAL_READER].join(',');
    // spawnNode puts its own --port 0 and --actors first; later flags win.
    const flags = [
      '--port', String(slot.port),
      '--actors', actors,
      '--node-id', slot.id,
      '--discovery', 'consul', ...slot.place.flags,
      '--link-port', '0',
      '--grid', 'hazelcast', '--hazelcast-cluster', this.hz.clusterName, '--hazelcast-members', this.hz.addresses.join(','),
      '--hazelcast-invocation-timeout', '4000',
      '--saga-scan', String(this.o.sagaScanMs), '--saga-stale', String(this.o.sagaStaleMs),
      ...this.o.nodeFlags,
    ];
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const where = slot.place.netns === undefined ? {} : { netns: slot.place.netns, host: slot.place.clientHost };
          const proc = await spawnNode(flags, { TROUPE_CLUSTER_SECRET: SECRET, TROUPE_NODE_ID: slot.id, ...env }, where);
          if (this.stopped) {
            // stop() ran while this node was starting: it must not outlive the run.
            await proc.stop(5000);
            throw new Error(`node ${slot.id} started after the cluster was stopped`);
          }
          slot.proc = proc;
          this.processes.push(proc);
          // A process that ends by itself (a failpoint) leaves its slot down, ready for restart().
          void proc.exited().then(() => {
            if (slot.proc !== proc) return;
            slot.proc = undefined;
            this.saveLogs(slot.id, proc);
          });
          return;
        } catch (err) {
          if (attempt >= RESTART_ATTEMPTS || this.stopped) throw err;
          this.o.progress(`node ${slot.id} did not start (attempt ${attempt}): ${String((err as Error).message).split('\n')[0]}`);
          await sleep(500 * attempt);
        }
      }
    } finally {
      slot.starting = false;
    }
  }

  private saveLogs(id: string, proc: NodeProcess): void {
    try {
      writeFileSync(join(this.o.logDir, `${id}-${proc.pid}.jsonl`), proc.logs.map((l) => JSON.stringify(l)).join('\n') + '\n');
      const stderr = proc.stderr();
      if (stderr !== '') writeFileSync(join(this.o.logDir, `${id}-${proc.pid}.stderr`), stderr);
    } catch {
      // Logs are evidence, not part of the verdict.
    }
  }
}
