/**
 * A Consul dev agent for a local cluster, on loopback and the cluster's port
 * block (flags and readiness as measured in CONSUL-NOTES.md). It is started
 * detached: it must outlive `troupe cluster up`, and is stopped by PID.
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fetchConsulScript } from './paths.js';
import { CONSUL_OFFSETS, HOST, portAnswers } from './ports.js';
import { isAlive, isOurProcess, logTail, sleep, terminate, type StopOutcome } from './processes.js';
import type { ConsulRecord } from './state.js';
import { runSetupScript } from '../setup-script.js';
import type { Detail } from '../steps.js';

/** The service name nodes register under (the consul discovery engine's default). */
export const SERVICE = 'troupe';
const READY_TIMEOUT_MS = 20_000;

/**
 * Runs scripts/fetch-consul.sh (cached after the first download; honours
 * TROUPE_CONSUL_BIN) and returns the binary's path. The script's own progress
 * lines (stderr) are passed on.
 */
export function fetchConsulBinary(detail?: Detail): Promise<string> {
  return runSetupScript({ path: fetchConsulScript(), what: 'fetching the Consul agent', timeoutMs: 600_000 }, detail);
}

export function agentArgs(name: string, base: number): string[] {
  return [
    'agent', '-dev',
    '-bind', HOST, '-client', HOST, '-advertise', HOST,
    '-node', name,
    '-http-port', String(base + CONSUL_OFFSETS.http),
    '-serf-lan-port', String(base + CONSUL_OFFSETS.serfLan),
    '-server-port', String(base + CONSUL_OFFSETS.server),
    '-dns-port', '-1', '-serf-wan-port', '-1', '-grpc-port', '-1',
    '-log-level', 'warn',
  ];
}

/**
 * Starts the agent and resolves once `serfHealth` passes on its node (before
 * that, sessions and registrations can fail). Refuses a port that already
 * answers: a leftover agent there would look ready at once.
 */
export async function startAgent(o: { binary: string; base: number; name: string; dir: string }, onLaunched: (r: ConsulRecord) => void): Promise<ConsulRecord> {
  const httpPort = o.base + CONSUL_OFFSETS.http;
  if (await portAnswers(httpPort)) throw new Error(`port ${httpPort} already answers: refusing to start a Consul agent there (a leftover agent?)`);
  const log = join(o.dir, 'consul.log');
  const fd = openSync(log, 'a');
  let record: ConsulRecord;
  let logStart: number;
  try {
    logStart = fstatSync(fd).size;
    const child = spawn(o.binary, agentArgs(o.name, o.base), { detached: true, stdio: ['ignore', fd, fd] });
    child.on('error', () => {}); // noticed below through isAlive and the log
    child.unref();
    if (child.pid === undefined) throw new Error(`could not run ${o.binary}`);
    record = { pid: child.pid, name: o.name, httpPort, url: `http://${HOST}:${httpPort}`, binary: o.binary, log };
  } finally {
    closeSync(fd);
  }
  onLaunched(record);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (!isAlive(record.pid)) throw new Error(`the Consul agent exited during start-up:\n${logTail(log, logStart)}`);
    if (await agentReady(record)) return record;
    await sleep(100);
  }
  throw new Error(`the Consul agent on port ${httpPort} was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${logTail(log, logStart)}`);
}

export function isOurAgent(r: ConsulRecord): boolean {
  return isOurProcess(r.pid, [['agent'], ['-node', r.name], ['-http-port', String(r.httpPort)]]);
}

/** `/v1/health/node/NAME` shows serfHealth passing. */
export async function agentReady(r: ConsulRecord): Promise<boolean> {
  try {
    const res = await fetch(`${r.url}/v1/health/node/${encodeURIComponent(r.name)}`, { signal: AbortSignal.timeout(1_000) });
    if (!res.ok) return false;
    const checks = (await res.json()) as { CheckID?: unknown; Status?: unknown }[];
    return Array.isArray(checks) && checks.some((c) => c.CheckID === 'serfHealth' && c.Status === 'passing');
  } catch {
    return false;
  }
}

/**
 * Service ids Consul lists as passing (`/v1/health/service/troupe?passing`),
 * or the reason it could not be asked. Membership is read from here, never
 * from the catalog, which keeps critical entries for a minute or more.
 */
export async function passingIds(url: string): Promise<string[] | { error: string }> {
  try {
    const res = await fetch(`${url}/v1/health/service/${SERVICE}?passing`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return { error: `HTTP ${res.status}` };
    const entries = (await res.json()) as { Service?: { ID?: unknown } }[];
    if (!Array.isArray(entries)) return { error: 'unexpected answer' };
    return entries.map((e) => String(e?.Service?.ID ?? '')).filter((id) => id !== '').sort();
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export async function stopAgent(r: ConsulRecord): Promise<StopOutcome> {
  if (!isOurAgent(r)) return 'gone';
  return terminate(r.pid, 5_000);
}
