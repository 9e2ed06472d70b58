/**
 * The Hazelcast members every hazelcast row of one run shares: started by the
 * first row that asks (so a run without those rows never starts Java), kept
 * for the other rows, stopped by PID when the run ends, and killed if the
 * runner is interrupted (lib/processes.ts; the kernel also kills them if the
 * runner dies by SIGKILL, `tieToParent`).
 *
 * Members come from runtime/cli/hazelcast/members.ts, the tooling behind
 * `troupe hazelcast up`, with Troupe's member configuration
 * (grid/hazelcast/member/hazelcast.xml): every row stores its counters in a
 * map named `troupe.actor.*`, so all of them get the configuration Troupe's
 * own records get (BINARY values, one synchronous backup when there is a
 * second member to hold it).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Client as HazelcastClient, IMap } from 'hazelcast-client';
import { type DurabilityMode, fetchMemberJar, startMembers, type RunningMembers } from '../../runtime/cli/hazelcast/members.js';
import { startPostgres, type PostgresServer } from '../../runtime/cli/postgres/server.js';
import { killOnExit, release } from './processes.js';

export interface HazelcastCluster {
  readonly clusterName: string;
  /** `127.0.0.1:<port>` of every member. */
  readonly addresses: readonly string[];
  /**
   * The members' JVMs, and with a store the PostgreSQL server and its
   * backends, whose CPU each hazelcast row reports as server CPU. Read anew
   * at every use: backends come and go with the members' connections.
   */
  readonly pids: readonly number[];
  /**
   * A map name no earlier row of this run used, under `troupe.actor.` so the
   * members configure it as they configure Troupe's actor maps.
   */
  freshMapName(label: string): string;
  /** Empties a map whose name is fixed (the Troupe node's `troupe.actor.Counter`), so each row starts alike. */
  clearMap(name: string): Promise<void>;
}

export interface SharedHazelcastOptions {
  readonly members: number;
  readonly heapMb: number;
  /** Run folder: member logs, `members.json`. Emptied before the members start. */
  readonly dir: string;
  readonly progress: (line: string) => void;
  /** PostgreSQL behind the members (a server of the run's own, fresh, fsync on), or none. */
  readonly store?: DurabilityMode;
  /** Partition threads per member (a write-through store runs on them); default Hazelcast's. */
  readonly partitionThreads?: number;
}

/** The postmaster and its backends: PostgreSQL's share of a row's server CPU. */
function postgresPids(postmaster: number): number[] {
  const out = [postmaster];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Start-up of a cold JVM on a busy 2-core machine can be slow; this bounds it. */
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 3_000;
const CLIENT_TIMEOUT_MS = 10_000;

export class SharedHazelcast {
  private starting: Promise<HazelcastCluster> | undefined;
  private running: RunningMembers | undefined;
  private postgres: PostgresServer | undefined;
  private maps = 0;

  constructor(private readonly o: SharedHazelcastOptions) {}

  /** One line for the table header, or null when no row started the members. */
  describe(): string | null {
    if (this.running === undefined) return null;
    const backup = this.o.members >= 2 ? 'one synchronous backup per entry on the other member' : 'no backup (one member)';
    if (this.o.store !== undefined) {
      return `Hazelcast ${this.o.store}: ${this.o.members} member(s) with PostgreSQL ${this.postgres?.url ?? ''} behind them (MapStore, fsync on; grid/hazelcast/member/store), ${this.o.heapMb} MB heap each, ${backup}`;
    }
    return `Hazelcast: ${this.o.members} member(s) on 127.0.0.1 shared by the hazelcast rows (grid/hazelcast/member/hazelcast.xml, ${this.o.heapMb} MB heap each), ${backup}; a fresh map per row`;
  }

  /** Starts the members on the first call; later calls get the same cluster (or the same failure). */
  get(): Promise<HazelcastCluster> {
    this.starting ??= this.start();
    return this.starting;
  }

  private async start(): Promise<HazelcastCluster> {
    rmSync(this.o.dir, { recursive: true, force: true });
    mkdirSync(this.o.dir, { recursive: true });
    const jar = await fetchMemberJar();
    const clusterName = `troupe-bench-${process.pid}${this.o.store === undefined ? '' : `-${this.o.store}`}`;
    let store;
    if (this.o.store !== undefined) {
      this.postgres = await startPostgres({ dir: join(this.o.dir, 'postgres'), onProgress: (line) => this.o.progress(`postgres: ${line}`) });
      killOnExit(this.postgres.pid);
      store = { jdbcUrl: this.postgres.jdbcUrl(), user: this.postgres.user, mode: this.o.store, writeDelaySeconds: 1 };
    }
    this.o.progress(`starting ${this.o.members} Hazelcast member(s), cluster ${clusterName}${store === undefined ? '' : `, ${store.mode} to PostgreSQL`}, logs in ${this.o.dir}`);
    const running = await startMembers({
      count: this.o.members,
      clusterName,
      dir: this.o.dir,
      heapMb: this.o.heapMb,
      jar,
      tieToParent: true,
      readyTimeoutMs: READY_TIMEOUT_MS,
      onProgress: (line) => this.o.progress(line),
      ...(store === undefined ? {} : { store }),
      ...(this.o.partitionThreads === undefined ? {} : { partitionThreads: this.o.partitionThreads }),
    });
    this.running = running;
    for (const m of running.members) killOnExit(m.pid);
    const addresses = running.members.map((m) => m.address);
    this.o.progress(`warming up the member(s): up to ${WARMUP_MS / 1000} s of get, putIfAbsent, replaceIfSame and set`);
    await warmUp(clusterName, addresses);
    const memberPids = running.members.map((m) => m.pid);
    const pg = this.postgres;
    return {
      clusterName,
      addresses,
      get pids() {
        return pg === undefined ? memberPids : [...memberPids, ...postgresPids(pg.pid)];
      },
      freshMapName: (label) => `troupe.actor.bench-${label}-${++this.maps}`,
      clearMap: (name) => clearMap(clusterName, addresses, name),
    };
  }

  /** Stops the members by PID, if any were started. Idempotent. */
  async stop(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    if (running === undefined) return;
    // The whole cluster goes: no point in a graceful partition hand-over.
    await running.stop(STOP_GRACE_MS);
    for (const m of running.members) release(m.pid);
    this.o.progress(`stopped ${running.members.length} Hazelcast member(s)`);
    const pg = this.postgres;
    this.postgres = undefined;
    if (pg !== undefined) {
      await pg.stop(5_000);
      release(pg.pid);
      rmSync(pg.dir, { recursive: true, force: true });
      this.o.progress('stopped PostgreSQL');
    }
  }
}

/** A short-lived client; hazelcast-client loads in the runner only when a hazelcast row runs. */
async function withClient<T>(clusterName: string, addresses: readonly string[], use: (client: HazelcastClient) => Promise<T>): Promise<T> {
  const { Client } = await import('hazelcast-client');
  const client = await Client.newHazelcastClient({
    clusterName,
    network: { clusterMembers: [...addresses] },
    connectionStrategy: { connectionRetry: { clusterConnectTimeoutMillis: CLIENT_TIMEOUT_MS } },
    metrics: { enabled: false },
    properties: { 'hazelcast.logging.level': 'OFF', 'hazelcast.client.invocation.timeout.millis': CLIENT_TIMEOUT_MS },
  });
  try {
    return await use(client);
  } finally {
    await client.shutdown();
  }
}

function clearMap(clusterName: string, addresses: readonly string[], name: string): Promise<void> {
  return withClient(clusterName, addresses, async (client) => {
    await (await client.getMap(name)).clear();
    // An actor map's existence markers go too, or its actors would read as lost (E_DATA_LOST) in the next row.
    if (name.startsWith('troupe.actor.')) await (await client.getMap(`troupe.exists.${name.slice('troupe.actor.'.length)}`)).clear();
  });
}

const WARMUP_MS = 6_000;
const WARMUP_OPS = 400_000;
const WARMUP_IN_FLIGHT = 200;

/**
 * A fresh JVM interprets before it compiles: without this, whichever row
 * comes first would pay for the members' JIT warm-up in its figures. Runs the
 * operations the rows use, bounded by count and time, on a map dropped after.
 */
function warmUp(clusterName: string, addresses: readonly string[]): Promise<void> {
  return withClient(clusterName, addresses, async (client) => {
    const map: IMap<string, Buffer> = await client.getMap('troupe.actor.bench-warmup');
    const deadline = performance.now() + WARMUP_MS;
    const value = Buffer.alloc(28, 1);
    const other = Buffer.alloc(28, 2);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < WARMUP_OPS && performance.now() < deadline) {
        const key = `w${next++ % 1000}`;
        await map.putIfAbsent(key, value);
        const old = await map.get(key);
        if (old != null) await map.replaceIfSame(key, old, old.equals(value) ? other : value);
        await map.set(key, value);
      }
    };
    await Promise.all(Array.from({ length: WARMUP_IN_FLIGHT }, lane));
    await map.destroy();
  });
}

export function defaultRunDir(root: string): string {
  return join(root, '.troupe', 'bench', 'hazelcast');
}
