/**
 * Troupe node processes of a local cluster: `node bin/troupe.js start ...`,
 * detached (they outlive the CLI), output appended to one log per node id,
 * the secret passed in the environment only.
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SETTINGS } from '../../config.js';
import { troupeBin } from './paths.js';
import { HOST } from './ports.js';
import { isAlive, isOurProcess, logTail, sleep, terminate, type StopOutcome } from './processes.js';
import type { NodeRecord } from './state.js';

/** Flags the launcher sets itself; `--` pass-through may not override them. */
export const MANAGED_FLAGS = [
  '--node-id', '--host', '--port', '--link-port', '--advertise', '--zone', '--actors',
  '--discovery', '--consul', '--peers', '--grid', '--hazelcast-cluster', '--hazelcast-members',
] as const;

export interface NodeSpec {
  readonly id: string;
  readonly port: number;
  readonly linkPort: number;
  readonly zone: string;
  readonly consulUrl: string;
  readonly hazelcastCluster: string;
  readonly hazelcastMembers: readonly string[];
  readonly actors: readonly string[];
  readonly extraFlags: readonly string[];
}

export function nodeArgs(s: NodeSpec): string[] {
  return [
    'start',
    '--node-id', s.id,
    '--host', HOST,
    '--advertise', HOST,
    '--port', String(s.port),
    '--link-port', String(s.linkPort),
    ...(s.zone === '' ? [] : ['--zone', s.zone]),
    '--discovery', 'consul',
    '--consul', s.consulUrl,
    '--grid', 'hazelcast',
    '--hazelcast-cluster', s.hazelcastCluster,
    '--hazelcast-members', s.hazelcastMembers.join(','),
    '--actors', s.actors.join(','),
    ...s.extraFlags,
  ];
}

/**
 * The node's environment: ours without any TROUPE_* setting (a stray
 * TROUPE_PORT in the caller's shell must not change a node that flags
 * describe completely, nor a restart of it), plus the secret.
 */
function nodeEnv(secret: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const s of Object.values(SETTINGS)) delete env[s.env];
  env.TROUPE_CLUSTER_SECRET = secret;
  return env;
}

export function nodeLog(dir: string, id: string): string {
  return join(dir, `${id}.log`);
}

/** Spawns the node with `args` and returns at once; see `waitNodeReady`. */
export function launchNode(o: { id: string; port: number; linkPort: number; zone: string; args: readonly string[]; dir: string; secret: string }): NodeRecord {
  const log = nodeLog(o.dir, o.id);
  const fd = openSync(log, 'a');
  try {
    const logStart = fstatSync(fd).size;
    const child = spawn(process.execPath, [troupeBin(), ...o.args], { cwd: o.dir, detached: true, stdio: ['ignore', fd, fd], env: nodeEnv(o.secret) });
    child.on('error', () => {}); // noticed through isAlive and the log
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${process.execPath} for ${o.id}`);
    return { id: o.id, pid: child.pid, port: o.port, linkPort: o.linkPort, zone: o.zone, args: [...o.args], log, logStart, startedAt: new Date().toISOString() };
  } finally {
    closeSync(fd);
  }
}

export function isOurNode(n: NodeRecord): boolean {
  return isOurProcess(n.pid, [['start'], ['--node-id', n.id], ['--port', String(n.port)]]);
}

export function nodeUrls(n: Pick<NodeRecord, 'port' | 'linkPort'>): { ws: string; http: string; link: string } {
  return { ws: `ws://${HOST}:${n.port}/v1/ws`, http: `http://${HOST}:${n.port}`, link: `${HOST}:${n.linkPort}` };
}

export interface Readiness {
  /** 'ready' on 200 from /health/ready, 'not ready' on another answer, 'unreachable' on none. */
  readonly state: 'ready' | 'not ready' | 'unreachable';
  /** The member ids the node's cluster view lists (cluster mode), or null when it reports none. */
  readonly members: readonly string[] | null;
}

export async function nodeReadiness(port: number): Promise<Readiness> {
  try {
    const res = await fetch(`http://${HOST}:${port}/health/ready`, { signal: AbortSignal.timeout(1_000) });
    const text = await res.text();
    let members: string[] | null = null;
    try {
      const list = (JSON.parse(text) as { cluster?: { members?: unknown } } | null)?.cluster?.members;
      if (Array.isArray(list)) members = list.map(String);
    } catch {
      // not JSON: readiness still follows the status code
    }
    return { state: res.ok ? 'ready' : 'not ready', members };
  } catch {
    return { state: 'unreachable', members: null };
  }
}

function loggedListening(n: NodeRecord): boolean {
  try {
    return readFileSync(n.log).subarray(n.logStart).toString('utf8').includes('"event":"listening"');
  } catch {
    return false;
  }
}

/**
 * Resolves once the node answers 200 on /health/ready. Fails early, with the
 * log's tail, when the process exits; `progress` hears when it listens.
 */
export async function waitNodeReady(n: NodeRecord, timeoutMs: number, progress: (line: string) => void): Promise<void> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  let listening = false;
  while (Date.now() < deadline) {
    if (!isAlive(n.pid)) throw new Error(`${n.id} (pid ${n.pid}) exited during start-up; the end of ${n.log}:\n${logTail(n.log, n.logStart)}`);
    if (!listening && loggedListening(n)) {
      listening = true;
      progress(`${n.id}: listening on ${nodeUrls(n).http}, waiting for /health/ready`);
    }
    if (listening && (await nodeReadiness(n.port)).state === 'ready') {
      progress(`${n.id}: ready (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return;
    }
    await sleep(200);
  }
  throw new Error(`${n.id} (pid ${n.pid}) was not ready within ${timeoutMs / 1000} s; the end of ${n.log}:\n${logTail(n.log, n.logStart)}`);
}

/** SIGTERM (the node drains and exits 0), SIGKILL after `graceMs`. */
export async function stopNode(n: NodeRecord, graceMs: number): Promise<StopOutcome> {
  if (!isOurNode(n)) return 'gone';
  return terminate(n.pid, graceMs);
}
