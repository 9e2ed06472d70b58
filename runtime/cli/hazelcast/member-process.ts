import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { delimiter, join } from 'node:path';
import { type MemberStore, storeEnvironment, storeProperties } from './member-store.js';
import { memberConfigPath } from './paths.js';

/** One Hazelcast member process started by Troupe. */
export interface MemberInfo {
  readonly pid: number;
  readonly port: number;
  /** `host:port` as clients list it. */
  readonly address: string;
  /** File the member's stdout and stderr go to (appended: a restarted member keeps its history). */
  readonly log: string;
  /** Byte offset in `log` where this process's output begins. */
  readonly logStart: number;
}

export interface LaunchMemberOptions {
  readonly jar: string;
  /** The member store jar (buildMemberStoreJar): on every member's classpath, store or not, for the merge policy and the durability report. */
  readonly storeJar: string;
  readonly port: number;
  readonly clusterName: string;
  /** Every member's `host:port`, this one included (TCP-IP join list). */
  readonly memberList: readonly string[];
  readonly dir: string;
  readonly heapMb: number;
  /** Address to bind and publish; 127.0.0.1 unless the member runs in a network namespace of its own. */
  readonly bind?: string;
  /** Run the JVM inside this network namespace (`ip netns exec`): tests that cut a member's link. */
  readonly netns?: string;
  /** Split-brain quorum (quorumFor(configured members)); 0 is off. */
  readonly quorum: number;
  /** PostgreSQL behind the Troupe maps; none without it. */
  readonly store?: MemberStore;
  /** Partition threads; a write-through store runs its upserts on them. Default: Hazelcast's own, max(2, cores). */
  readonly partitionThreads?: number;
  /**
   * Kill the member when the launching process dies, even by SIGKILL (Linux
   * `setpriv --pdeathsig`). Test fixtures want this; `troupe hazelcast up`
   * does not, its members must outlive the command.
   */
  readonly tieToParent: boolean;
}

const HOST = '127.0.0.1';

/**
 * Flags Hazelcast asks for on Java 9+ (it prints them as a warning otherwise);
 * without them it falls back to slower paths for some internals.
 */
const JAVA_MODULE_FLAGS = [
  '--add-modules', 'java.se',
  '--add-exports', 'java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-opens', 'java.base/java.lang=ALL-UNNAMED',
  '--add-opens', 'java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens', 'java.management/sun.management=ALL-UNNAMED',
  '--add-opens', 'jdk.management/com.sun.management.internal=ALL-UNNAMED',
];

function javaBinary(): string {
  const home = process.env.JAVA_HOME;
  if (home !== undefined && home !== '' && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  return 'java';
}

/** The argv of one member; the port marker doubles as the identity check in `isOurMember`. */
export function memberArgs(o: Omit<LaunchMemberOptions, 'tieToParent' | 'dir' | 'netns'>): string[] {
  return [
    `-Xms${o.heapMb}m`,
    `-Xmx${o.heapMb}m`,
    // Serial GC: the smallest footprint for a heap this size on a 2-core box;
    // pauses stay in the low milliseconds at a few hundred MB.
    '-XX:+UseSerialGC',
    '-Xss512k',
    '-Djava.net.preferIPv4Stack=true',
    ...JAVA_MODULE_FLAGS,
    `-Dhazelcast.config=${memberConfigPath()}`,
    `-Dtroupe.cluster=${o.clusterName}`,
    `-Dtroupe.port=${o.port}`,
    `-Dtroupe.members=${o.memberList.join(',')}`,
    `-Dtroupe.bind=${o.bind ?? HOST}`,
    `-Dtroupe.partition-threads=${o.partitionThreads ?? Math.max(2, availableParallelism())}`,
    ...storeProperties(o.store, o.quorum),
    '-cp',
    `${o.jar}${delimiter}${o.storeJar}`,
    'com.hazelcast.core.server.HazelcastMemberStarter',
  ];
}

/** Spawns one member in the background; does not wait for it to join. */
export function launchMember(o: LaunchMemberOptions): MemberInfo {
  const log = join(o.dir, `member-${o.bind === undefined || o.bind === HOST ? '' : `${o.bind}-`}${o.port}.log`);
  const fd = openSync(log, 'a');
  try {
    const logStart = fstatSync(fd).size;
    // `ip netns exec` enters the namespace and execs java in place, as setpriv does: the PID stays the JVM's.
    const command = o.netns === undefined ? [javaBinary(), ...memberArgs(o)] : ['ip', 'netns', 'exec', o.netns, javaBinary(), ...memberArgs(o)];
    const tie = o.tieToParent && process.platform === 'linux' && existsSync('/usr/bin/setpriv');
    const env = { ...process.env, ...storeEnvironment(o.store) };
    const child = tie
      ? spawn('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', ...command], { detached: false, stdio: ['ignore', fd, fd], env })
      : spawn(command[0]!, command.slice(1), { detached: true, stdio: ['ignore', fd, fd], env });
    // A failed exec (no java on PATH) surfaces as an 'error' event; the caller
    // notices through isAlive() and the log, so only keep it from crashing us.
    child.on('error', () => {});
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start java for the Hazelcast member on port ${o.port} (is Java 17+ on PATH?)`);
    const host = o.bind ?? HOST;
    return { pid: child.pid, port: o.port, address: `${host}:${o.port}`, log, logStart };
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// A killed child we spawned stays a zombie until Node reaps it; it is gone for our purposes.
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/**
 * True when `pid` is still the member we started on `port`. PIDs are reused,
 * so a run folder left over from a reboot must not make us signal a stranger.
 * Where /proc is missing (macOS) we can only trust the PID.
 */
export function isOurMember(pid: number, port: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes(`-Dtroupe.port=${port}`) && cmdline.includes('com.hazelcast.core.server.HazelcastMemberStarter');
  } catch {
    return process.platform !== 'linux';
  }
}

/** kill -9, for tests that simulate a crashed member. */
export function killMember(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * SIGTERM (the member's shutdown hook hands its partitions over, see
 * hazelcast.xml), then SIGKILL if it is still there after `graceMs`.
 */
export async function stopMember(pid: number, graceMs = 15_000): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
    throw err;
  }
  if (await waitForExit(pid, graceMs)) return;
  killMember(pid);
  await waitForExit(pid, 5_000);
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(50);
  }
  return !isAlive(pid);
}

export async function isPortFree(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
