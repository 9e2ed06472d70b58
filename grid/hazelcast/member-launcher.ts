import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { probeCluster } from './member-probe.js';
import { freePort, isAlive, isPortFree, launchMember, type MemberInfo, sleep, stopMember } from './member-process.js';
import { fetchScriptPath } from './paths.js';
import { writeRunState } from './run-state.js';

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
  /** How long the cluster may take to form before start-up is abandoned. */
  readonly readyTimeoutMs?: number;
  /** See `LaunchMemberOptions.tieToParent`. */
  readonly tieToParent?: boolean;
  readonly onProgress?: (message: string) => void;
}

export interface RunningMembers {
  readonly clusterName: string;
  readonly members: readonly MemberInfo[];
  /** Stops every member started here, by PID (SIGTERM, then SIGKILL after a grace period). */
  stop(graceMs?: number): Promise<void>;
}

const DEFAULT_HEAP_MB = 128;
const DEFAULT_READY_TIMEOUT_MS = 60_000;

/** Runs scripts/fetch-hazelcast.sh: downloads the member jar once, then answers from the cache. */
export async function fetchMemberJar(): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    execFile('bash', [fetchScriptPath()], { timeout: 600_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new Error(`fetching the Hazelcast jar failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
        return;
      }
      const jar = stdout.trim().split('\n').pop() ?? '';
      if (!existsSync(jar)) reject(new Error(`fetch-hazelcast.sh printed '${jar}', which does not exist`));
      else resolve(jar);
    });
  });
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
  const progress = o.onProgress ?? (() => {});
  mkdirSync(o.dir, { recursive: true });
  const jar = o.jar ?? (await fetchMemberJar());
  const ports = await choosePorts(o.count, o.basePort);
  const memberList = ports.map((p) => `127.0.0.1:${p}`);
  const heapMb = o.heapMb ?? DEFAULT_HEAP_MB;

  const members: MemberInfo[] = [];
  const stop = async (graceMs?: number): Promise<void> => {
    await Promise.all(members.map((m) => stopMember(m.pid, graceMs)));
  };
  try {
    for (const port of ports) {
      const m = launchMember({ jar, port, clusterName: o.clusterName, memberList, dir: o.dir, heapMb, tieToParent: o.tieToParent ?? false });
      members.push(m);
      progress(`started member ${members.length}/${o.count} on ${m.address} (pid ${m.pid}, log ${m.log})`);
    }
    // Recorded before waiting, so `down` can clean up a start-up that hangs.
    writeRunState(o.dir, { clusterName: o.clusterName, startedAt: new Date().toISOString(), members });
    await waitForFormation(members, o.count, o.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, progress);
    const seen = await probeCluster(o.clusterName, memberList, 10_000);
    if (seen !== o.count) throw new Error(`a client sees ${seen} members, expected ${o.count}`);
    progress(`cluster '${o.clusterName}' is up: ${o.count} member(s) accept clients`);
  } catch (err) {
    await stop(2_000);
    throw err;
  }
  return { clusterName: o.clusterName, members, stop };
}

/** Number of members the log's latest membership table lists, 0 before the member started. */
function logMemberCount(m: MemberInfo): number {
  let text: string;
  try {
    text = readFileSync(m.log).subarray(m.logStart).toString('utf8');
  } catch {
    return 0;
  }
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

/**
 * Waits until every member's log shows it started in a cluster of `count`.
 * Fails early, with the log tail, when a member process exits.
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
    if (sizes.every((s) => s === count)) return;
    const ready = sizes.filter((s) => s > 0).length;
    if (ready !== reported) {
      reported = ready;
      progress(`waiting for the cluster to form: ${ready}/${members.length} member(s) started`);
    }
    await sleep(100);
  }
  throw new Error(`the Hazelcast cluster did not form within ${timeoutMs} ms; see ${members.map((m) => m.log).join(', ')}`);
}
