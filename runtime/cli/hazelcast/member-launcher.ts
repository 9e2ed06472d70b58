import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { probeCluster } from './member-probe.js';
import { freePort } from '../free-port.js';
import { isAlive, isPortFree, launchMember, type MemberInfo, sleep, stopMember } from './member-process.js';
import { buildMemberStoreJar, type MemberStore, quorumFor } from './member-store.js';
import { fetchScriptPath } from './paths.js';
import { type RunState, writeRunState } from './run-state.js';
import { runSetupScript } from '../setup-script.js';
import { type Detail, messageSteps, type RunStep } from '../steps.js';

export interface StartMembersOptions {
  readonly count: number;
  /** First port; members take consecutive ports from here. Omitted: free ports chosen at runtime. */
  readonly basePort?: number;
  readonly clusterName: string;
  /** Run folder: member logs and `members.json` (PIDs) go here. */
  readonly dir: string;
  /** Heap per member; 128 MB is plenty for tests and development. */
  readonly heapMb?: number;
  /** Jar to run; fetched with `fetchMemberJar()` when omitted. */
  readonly jar?: string;
  /** Troupe's member jar (store, merge policy, durability report); built with `buildMemberStoreJar()` when omitted. */
  readonly storeJar?: string;
  /** PostgreSQL behind the Troupe maps (the durable tier); in memory only without it. */
  readonly store?: MemberStore;
  /** Partition threads per member (see LaunchMemberOptions). */
  readonly partitionThreads?: number;
  /** Address every member binds and publishes (see LaunchMemberOptions); 127.0.0.1 when omitted. */
  readonly bind?: string;
  /** How long the cluster may take to form before start-up is abandoned. */
  readonly readyTimeoutMs?: number;
  /** See `LaunchMemberOptions.tieToParent`. */
  readonly tieToParent?: boolean;
  /** Lines about what is under way; used as the steps' titles and details when `steps` is not given. */
  readonly onProgress?: (message: string) => void;
  /** Shows each step (getting the jars, each member starting, the cluster forming); the CLI's draws a spinner. */
  readonly steps?: RunStep;
  /** Extra fields for the run folder's members.json (the CLI records its PostgreSQL server there). */
  readonly record?: Pick<RunState, 'postgres' | 'durability'>;
}

export interface RunningMembers {
  readonly clusterName: string;
  /** Split-brain quorum the members were given (0: off). */
  readonly quorum: number;
  readonly members: readonly MemberInfo[];
  /** Stops every member started here, by PID (SIGTERM, then SIGKILL after a grace period). */
  stop(graceMs?: number): Promise<void>;
}

const DEFAULT_HEAP_MB = 128;
const DEFAULT_READY_TIMEOUT_MS = 60_000;

/**
 * Runs scripts/fetch-hazelcast.sh: downloads the member jar once, then answers
 * from the cache. `detail` hears the script's progress lines.
 */
export function fetchMemberJar(detail?: Detail): Promise<string> {
  return runSetupScript({ path: fetchScriptPath(), what: 'fetching the Hazelcast jar', timeoutMs: 600_000 }, detail);
}

async function choosePorts(count: number, basePort: number | undefined): Promise<number[]> {
  if (basePort !== undefined) {
    const ports = Array.from({ length: count }, (_, i) => basePort + i);
    for (const p of ports) {
      if (!(await isPortFree(p))) throw new Error(`port ${p} on 127.0.0.1 is taken; choose another --port or stop what listens there`);
    }
    return ports;
  }
  const ports = new Set<number>();
  // Bounded: the OS hands out distinct ephemeral ports, a repeat is rare.
  for (let i = 0; ports.size < count && i < count * 10; i++) ports.add(await freePort());
  if (ports.size < count) throw new Error(`could not find ${count} free ports on 127.0.0.1`);
  return [...ports];
}

/**
 * Starts `count` members on loopback and resolves once they form one cluster
 * and a real client connects to it. On failure, every member started here is
 * stopped before the error is thrown.
 */
export async function startMembers(o: StartMembersOptions): Promise<RunningMembers> {
  if (!Number.isInteger(o.count) || o.count < 1) throw new TypeError(`count must be a positive integer, got ${o.count}`);
  const step = o.steps ?? messageSteps(o.onProgress);
  mkdirSync(o.dir, { recursive: true });
  const jar = o.jar ?? (await step('getting the Hazelcast jar (downloaded once, then cached)', (detail) => fetchMemberJar(detail)));
  const storeJar = o.storeJar ?? (await step("getting Troupe's member jar (built once per source change)", (detail) => buildMemberStoreJar(detail)));
  const ports = await choosePorts(o.count, o.basePort);
  const quorum = quorumFor(o.count);
  const memberList = ports.map((p) => `${o.bind ?? '127.0.0.1'}:${p}`);
  const heapMb = o.heapMb ?? DEFAULT_HEAP_MB;
  const timeoutMs = o.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;

  const members: MemberInfo[] = [];
  const stop = async (graceMs?: number): Promise<void> => {
    await Promise.all(members.map((m) => stopMember(m.pid, graceMs)));
  };
  try {
    // All launched at once: each looks for the others on the member list while it starts.
    for (const port of ports) {
      members.push(launchMember({
        jar, storeJar, port, clusterName: o.clusterName, memberList, dir: o.dir, heapMb, quorum,
        ...(o.store === undefined ? {} : { store: o.store }),
        ...(o.partitionThreads === undefined ? {} : { partitionThreads: o.partitionThreads }),
        ...(o.bind === undefined ? {} : { bind: o.bind }),
        tieToParent: o.tieToParent ?? false,
      }));
    }
    // Recorded before waiting, so `down` can clean up a start-up that hangs.
    writeRunState(o.dir, { clusterName: o.clusterName, startedAt: new Date().toISOString(), members, ...o.record });
    const deadline = Date.now() + timeoutMs;
    for (const [i, m] of members.entries()) {
      await step(`starting hazelcast member ${i + 1} of ${o.count}`, async (detail) => {
        detail(`${m.address} (pid ${m.pid}, log ${m.log})`);
        await waitForMemberStarted(m, deadline, timeoutMs);
      });
    }
    await step(`forming cluster '${o.clusterName}' (${o.count} member(s), every partition backed up)`, async (detail) => {
      await waitForFormation(members, o.count, Math.max(1, deadline - Date.now()), detail);
      const seen = await probeCluster(o.clusterName, memberList, 10_000);
      if (seen !== o.count) throw new Error(`a client sees ${seen} members, expected ${o.count}`);
      detail(`${o.count} member(s) accept clients`);
    });
  } catch (err) {
    await stop(2_000);
    throw err;
  }
  return { clusterName: o.clusterName, quorum, members, stop };
}

function logText(m: MemberInfo): string {
  try {
    return readFileSync(m.log).subarray(m.logStart).toString('utf8');
  } catch {
    return '';
  }
}

/**
 * True while a member's log shows a repartitioning (a member joined a
 * cluster whose partitions already exist) not yet followed by "All migration
 * tasks have been completed". Until then some partitions lack a backup: a
 * member killed then would take acknowledged writes with it.
 */
function migrating(members: readonly MemberInfo[]): boolean {
  return members.some((m) => {
    const text = logText(m);
    const started = text.lastIndexOf('Repartitioning cluster data');
    return started >= 0 && text.indexOf('All migration tasks have been completed', started) < 0;
  });
}

/** Bytes in a member's log file now: where to look from for what happens next. */
export function logSize(m: MemberInfo): number {
  try {
    return statSync(m.log).size;
  } catch {
    return 0;
  }
}

function logSince(m: MemberInfo, offset: number): string {
  try {
    return readFileSync(m.log).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

/**
 * After a member joined a running cluster: waits until the master (whichever
 * member logs it) has logged a repartitioning after `offsets` (each member's
 * log size before the join) and its completion. Until then some partitions
 * have their only copy on one member: killing that member would lose
 * acknowledged writes. The joining member's own log does not show this; only
 * the master's does. Resolves after `quietMs` without any repartitioning
 * logged (nothing to move), rejects when one started and did not finish
 * within `timeoutMs`.
 */
export async function waitForMigrations(members: readonly MemberInfo[], offsets: ReadonlyMap<number, number>, timeoutMs: number, quietMs = 15_000): Promise<void> {
  const began = Date.now();
  while (Date.now() - began < timeoutMs) {
    let started = false;
    let running = false;
    for (const m of members) {
      const text = logSince(m, offsets.get(m.pid) ?? m.logStart);
      const at = text.lastIndexOf('Repartitioning cluster data');
      if (at < 0) continue;
      started = true;
      if (text.indexOf('All migration tasks have been completed', at) < 0) running = true;
    }
    if (started && !running) return;
    if (!started && Date.now() - began >= quietMs) return;
    await sleep(100);
  }
  throw new Error(`partition migrations did not complete within ${timeoutMs} ms after a member joined; see ${members.map((m) => m.log).join(', ')}`);
}

/** Number of members the log's latest membership table lists, 0 before the member started. */
function logMemberCount(m: MemberInfo): number {
  const text = logText(m);
  if (!text.includes(' is STARTED')) return 0;
  const sizes = [...text.matchAll(/Members \{size:(\d+)/g)];
  const last = sizes[sizes.length - 1];
  return last === undefined ? 0 : Number(last[1]);
}

function logTail(m: MemberInfo): string {
  try {
    return readFileSync(m.log).subarray(m.logStart).toString('utf8').trim().split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Waits until `m`'s log shows it STARTED (alone or joined); fails early, with the log tail, if it exits. */
async function waitForMemberStarted(m: MemberInfo, deadline: number, timeoutMs: number): Promise<void> {
  while (Date.now() < deadline) {
    if (!isAlive(m.pid)) throw new Error(`Hazelcast member on ${m.address} (pid ${m.pid}) exited during start-up:\n${logTail(m)}`);
    if (logMemberCount(m) > 0) return;
    await sleep(100);
  }
  throw new Error(`the Hazelcast member on ${m.address} did not start within ${timeoutMs} ms; see ${m.log}`);
}

/**
 * Waits until every member's log shows it started in a cluster of `count`
 * and no partition migration is under way. Fails early, with the log tail,
 * when a member process exits.
 */
export async function waitForFormation(
  members: readonly MemberInfo[],
  count: number,
  timeoutMs: number,
  progress: (message: string) => void = () => {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reported = -1;
  while (Date.now() < deadline) {
    const sizes = members.map((m) => logMemberCount(m));
    for (const m of members) {
      if (!isAlive(m.pid)) throw new Error(`Hazelcast member on ${m.address} (pid ${m.pid}) exited during start-up:\n${logTail(m)}`);
    }
    // Formed, and every partition has its backup again (no migration under way).
    if (sizes.every((s) => s === count) && !migrating(members)) return;
    const ready = sizes.filter((s) => s > 0).length;
    if (ready !== reported) {
      reported = ready;
      progress(`waiting for the cluster to form: ${ready}/${members.length} member(s) started`);
    }
    await sleep(100);
  }
  throw new Error(`the Hazelcast cluster did not form within ${timeoutMs} ms; see ${members.map((m) => m.log).join(', ')}`);
}
