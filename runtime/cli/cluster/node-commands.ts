/**
 * `troupe cluster kill | start | add`: one node at a time, for trying out
 * failover by hand. Each holds the run folder's lock while it changes state.
 */
import { isOurAgent } from './consul-agent.js';
import { isOurNode, launchNode, nodeArgs, nodeUrls, waitNodeReady } from './node-process.js';
import { freePort } from '../free-port.js';
import { nodePorts, tcpFree } from './ports.js';
import { signal, terminate, waitForExit } from './processes.js';
import { commandHint, passingSummary, waitForPassing } from './report.js';
import { readSecret } from './secret.js';
import { type ClusterState, lockRunFolder, type NodeRecord, readState, writeState } from './state.js';
import { createProgress } from '../progress.js';
import type { Out } from './table.js';

/** A drained node exits within its drain time (5 s by default); allow for a slow grid. */
const TERM_WAIT_MS = 30_000;

export function loadState(dir: string): ClusterState {
  const state = readState(dir);
  if (state === undefined) throw new Error(`no cluster recorded in ${dir}; start one with 'troupe cluster up'`);
  return state;
}

/** The number in a node id (`node-3` is 3); 0 for an id the launcher did not make. */
export function nodeNumber(n: Pick<NodeRecord, 'id'>): number {
  return Number(/^node-(\d+)$/.exec(n.id)?.[1] ?? 0);
}

function findNode(state: ClusterState, id: string): NodeRecord {
  const node = state.nodes.find((n) => n.id === id);
  if (node === undefined) throw new Error(`no node '${id}' in cluster '${state.name}'; its nodes: ${state.nodes.map((n) => n.id).join(', ') || 'none'}`);
  return node;
}

function replaceNode(state: ClusterState, node: NodeRecord): ClusterState {
  const exists = state.nodes.some((n) => n.id === node.id);
  return { ...state, nodes: exists ? state.nodes.map((n) => (n.id === node.id ? node : n)) : [...state.nodes, node] };
}

export async function kill(dir: string, id: string, sig: 'SIGKILL' | 'SIGTERM', err: Out): Promise<number> {
  const release = lockRunFolder(dir);
  try {
    const node = findNode(loadState(dir), id);
    if (!isOurNode(node)) {
      err(`${id} (pid ${node.pid}) is not running`);
      return 1;
    }
    const started = Date.now();
    signal(node.pid, sig);
    const gone = await waitForExit(node.pid, sig === 'SIGKILL' ? 5_000 : TERM_WAIT_MS);
    const took = `${((Date.now() - started) / 1000).toFixed(1)} s`;
    if (!gone) {
      err(`${id} (pid ${node.pid}) is still running ${took} after ${sig}`);
      return 1;
    }
    err(sig === 'SIGKILL' ? `${id} (pid ${node.pid}) killed (SIGKILL)` : `${id} (pid ${node.pid}) drained and exited after SIGTERM in ${took}`);
    err(`restart it with '${commandHint(dir, `start ${id}`)}'`);
    return 0;
  } finally {
    release();
  }
}

/** Launches `node`'s recorded arguments, waits until it is ready; stops it again if it never is. */
async function launchAndWait(state: ClusterState, spec: Omit<NodeRecord, 'pid' | 'log' | 'logStart' | 'startedAt'>, readyTimeoutMs: number, out: Out, err: Out): Promise<number> {
  const dir = state.dir;
  if (state.consul === null || !isOurAgent(state.consul)) err(`warning: the cluster's Consul agent is not running; ${spec.id} cannot register`);
  const node = launchNode({ ...spec, dir, secret: readSecret(state.secretFile) });
  writeState(dir, replaceNode(state, node));
  try {
    await createProgress().step(`starting ${node.id}`, async (detail) => {
      detail(`pid ${node.pid}, log ${node.log}`);
      await waitNodeReady(node, readyTimeoutMs, detail);
    });
  } catch (e) {
    await terminate(node.pid, 5_000);
    throw e;
  }
  const u = nodeUrls(node);
  out(`${node.id}  ${u.ws}  ${u.http}  link ${u.link}  pid ${node.pid}`);
  // Needs cluster mode: until nodes register themselves, Consul lists none.
  if (state.consul !== null) out(`  ${passingSummary([node.id], await waitForPassing(state.consul.url, [node.id], 5_000))}`);
  return 0;
}

export async function start(dir: string, id: string, readyTimeoutMs: number, out: Out, err: Out): Promise<number> {
  const release = lockRunFolder(dir);
  try {
    const state = loadState(dir);
    const node = findNode(state, id);
    if (isOurNode(node)) throw new Error(`${id} is already running (pid ${node.pid}); 'kill' it first`);
    for (const port of [node.port, node.linkPort]) {
      if (!(await tcpFree(port))) throw new Error(`port ${port} of ${id} is taken by another process; free it, or 'add' a node instead`);
    }
    return await launchAndWait(state, node, readyTimeoutMs, out, err);
  } finally {
    release();
  }
}

/** The next node's ports: its slot in the block when free, else two drawn by freePort (never the same twice). */
async function portsFor(state: ClusterState, n: number): Promise<{ port: number; linkPort: number }> {
  const slot = nodePorts(state.basePort, n);
  if (slot !== undefined && (await tcpFree(slot.port)) && (await tcpFree(slot.linkPort))) return slot;
  return { port: await freePort(), linkPort: await freePort() };
}

export async function add(dir: string, zone: string, readyTimeoutMs: number, extraFlags: readonly string[], out: Out, err: Out): Promise<number> {
  const release = lockRunFolder(dir);
  try {
    const state = loadState(dir);
    if (state.consul === null || state.hazelcast === null || state.hazelcast.members.length === 0) {
      throw new Error(`cluster '${state.name}' never finished starting; 'down' and 'up' again`);
    }
    const numbers = state.nodes.map(nodeNumber);
    const n = Math.max(0, ...numbers) + 1;
    const id = `node-${n}`;
    const ports = await portsFor(state, n);
    const nodeZone = zone !== '' ? zone : state.zones.length === 0 ? '' : state.zones[(n - 1) % state.zones.length]!;
    const args = nodeArgs({
      id, ...ports, zone: nodeZone, consulUrl: state.consul.url,
      hazelcastCluster: state.hazelcast.clusterName, hazelcastMembers: state.hazelcast.members.map((m) => m.address),
      actors: state.actors, extraFlags: [...state.nodeFlags, ...extraFlags],
    });
    return await launchAndWait(state, { id, ...ports, zone: nodeZone, args }, readyTimeoutMs, out, err);
  } finally {
    release();
  }
}
