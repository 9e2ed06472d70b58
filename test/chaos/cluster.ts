/**
 * The chaos run's cluster: a real Consul agent, one real Hazelcast member and
 * N Troupe node processes that can be killed with SIGKILL and started again.
 *
 * Each node keeps its gateway port across restarts (a restarted machine comes
 * back at the same address), so clients only ever know one fixed URL list and
 * find a restarted node by reconnecting. Every process is stopped by its PID:
 * the fixtures' exit hooks cover a runner that dies.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startConsulAgent, type ConsulAgent } from '../fixtures/consul.js';
import { startHazelcast, type HazelcastFixture } from '../fixtures/hazelcast.js';
import { MODULES } from '../fixtures/node.js';
import { spawnNode, type NodeProcess } from '../fixtures/node-process.js';

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
}

interface Slot {
  readonly id: string;
  readonly port: number;
  /** The running process; undefined while the node is down or starting. */
  proc: NodeProcess | undefined;
  starting: boolean;
}

interface Ready {
  status?: string;
  cluster?: { members?: string[] };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ChaosCluster {
  private readonly slots: Slot[];
  /** Every node process started in this run, dead or alive, for counting log events. */
  private readonly processes: NodeProcess[] = [];
  private stopped = false;

  private constructor(
    private readonly o: ClusterOptions,
    private readonly consul: ConsulAgent,
    private readonly hz: HazelcastFixture,
    ports: readonly number[],
  ) {
    this.slots = ports.map((port, i) => ({ id: `n${i + 1}`, port, proc: undefined, starting: false }));
    mkdirSync(o.logDir, { recursive: true });
  }

  /** Starts Consul, Hazelcast and every node, and waits until each node sees all the others. */
  static async start(o: ClusterOptions): Promise<ChaosCluster> {
    o.progress('starting a Consul agent and a Hazelcast member');
    const [c, h] = await Promise.allSettled([startConsulAgent(), startHazelcast({ members: 1 })]);
    if (c.status === 'rejected' || h.status === 'rejected') {
      // Stop the one that did start, by PID, before reporting the one that did not.
      if (c.status === 'fulfilled') await c.value.stop();
      if (h.status === 'fulfilled') await h.value.stop();
      throw c.status === 'rejected' ? c.reason : (h as PromiseRejectedResult).reason;
    }
    const consul = c.value;
    const hz = h.value;
    const ports: number[] = [];
    while (ports.length < o.nodes) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    const cluster = new ChaosCluster(o, consul, hz, ports);
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

  /** The gateway URLs of every node, fixed for the whole run. */
  get urls(): string[] {
    return this.slots.map((s) => `ws://127.0.0.1:${s.port}/v1/ws`);
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

  /** Starts a node that is down again, same id and port, new process. */
  async restart(id: string): Promise<number> {
    const slot = this.slot(id);
    if (slot.proc !== undefined || slot.starting) throw new Error(`node ${id} is running or starting`);
    await this.launch(slot);
    return slot.proc!.pid;
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
          const r = (await (await fetch(`http://127.0.0.1:${s.port}/health/ready`, { signal: AbortSignal.timeout(2000) })).json()) as Ready;
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
    await this.consul.stop();
  }

  private slot(id: string): Slot {
    const slot = this.slots.find((s) => s.id === id);
    if (slot === undefined) throw new Error(`no node ${id}`);
    return slot;
  }

  private async launch(slot: Slot): Promise<void> {
    slot.starting = true;
    const actors = [MODULES.testActors, MODULES.counter, MODULES.account, MODULES.room, MODULES.transfer, JOURNAL_READER].join(',');
    // spawnNode puts its own --port 0 and --actors first; later flags win.
    const flags = [
      '--port', String(slot.port),
      '--actors', actors,
      '--node-id', slot.id,
      '--discovery', 'consul', '--consul', this.consul.url,
      '--link-port', '0',
      '--grid', 'hazelcast', '--hazelcast-cluster', this.hz.clusterName, '--hazelcast-members', this.hz.addresses.join(','),
      '--hazelcast-invocation-timeout', '4000',
      '--saga-scan', String(this.o.sagaScanMs), '--saga-stale', String(this.o.sagaStaleMs),
      ...this.o.nodeFlags,
    ];
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const proc = await spawnNode(flags, { TROUPE_CLUSTER_SECRET: SECRET, TROUPE_NODE_ID: slot.id });
          if (this.stopped) {
            // stop() ran while this node was starting: it must not outlive the run.
            await proc.stop(5000);
            throw new Error(`node ${slot.id} started after the cluster was stopped`);
          }
          slot.proc = proc;
          this.processes.push(proc);
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
    } catch {
      // Logs are evidence, not part of the verdict.
    }
  }
}
