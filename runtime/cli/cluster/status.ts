/**
 * `troupe cluster status`: for every process in the state file, is it alive
 * (and still ours), is it ready, and does Consul list the node as passing?
 */
import { isOurRecordedPostgres } from '../durable.js';
import { agentReady, isOurAgent, passingIds } from './consul-agent.js';
import { isOurMember, knownMembers } from './down.js';
import { isOurBroker } from './kafka-broker.js';
import { isOurNode, nodeReadiness, nodeUrls } from './node-process.js';
import { portAnswers } from './ports.js';
import type { Passing } from './report.js';
import { commandHint, passingSummary } from './report.js';
import { readState } from './state.js';
import { formatTable, type Out } from './table.js';

export interface NodeStatus {
  readonly id: string;
  readonly pid: number;
  readonly alive: boolean;
  /** `/health/ready`: 'ready', 'not ready' (503), 'unreachable', or '-' when the process is gone. */
  readonly ready: string;
  /** Members this node's cluster view lists (from /health/ready), null outside cluster mode. */
  readonly members: readonly string[] | null;
  /** In Consul's passing view? 'unknown' when Consul could not be asked. */
  readonly consul: 'passing' | 'not passing' | 'unknown';
  readonly ws: string;
  readonly http: string;
  readonly link: string;
  readonly zone: string;
  readonly log: string;
}

export interface ClusterStatus {
  readonly name: string;
  readonly dir: string;
  readonly consul: { readonly pid: number; readonly alive: boolean; readonly ready: boolean; readonly url: string; readonly ui: string } | null;
  readonly hazelcast: { readonly clusterName: string; readonly members: readonly { address: string; pid: number; alive: boolean; listening: boolean }[] } | null;
  readonly postgres: { readonly pid: number; readonly alive: boolean; readonly listening: boolean; readonly url: string } | null;
  readonly kafka: { readonly pid: number; readonly alive: boolean; readonly listening: boolean; readonly bootstrap: string } | null;
  readonly nodes: readonly NodeStatus[];
  /** Service ids Consul lists as passing, or why it could not be asked. */
  readonly passing: Passing;
  /** Passing ids that are not nodes of this run folder. */
  readonly others: readonly string[];
  /** Every recorded process alive, every node ready and passing in Consul. */
  readonly healthy: boolean;
}

export async function collectStatus(dir: string): Promise<ClusterStatus | undefined> {
  const state = readState(dir);
  if (state === undefined) return undefined;
  const consulAlive = state.consul !== null && isOurAgent(state.consul);
  const consul = state.consul === null ? null : {
    pid: state.consul.pid,
    alive: consulAlive,
    ready: consulAlive && (await agentReady(state.consul)),
    url: state.consul.url,
    ui: `${state.consul.url}/ui/`,
  };
  const passing: Passing = consul?.ready === true ? await passingIds(consul.url) : { error: consul === null ? 'no agent recorded' : 'agent not running' };
  const members = await Promise.all(
    knownMembers(state).map(async (m) => {
      const alive = isOurMember(m);
      return { address: m.address, pid: m.pid, alive, listening: alive && (await portAnswers(m.port)) };
    }),
  );
  const nodes = await Promise.all(
    state.nodes.map(async (n): Promise<NodeStatus> => {
      const alive = isOurNode(n);
      const readiness = alive ? await nodeReadiness(n.port) : undefined;
      return {
        id: n.id,
        pid: n.pid,
        alive,
        ready: readiness?.state ?? '-',
        members: readiness?.members ?? null,
        consul: Array.isArray(passing) ? (passing.includes(n.id) ? 'passing' : 'not passing') : 'unknown',
        ...nodeUrls(n),
        zone: n.zone,
        log: n.log,
      };
    }),
  );
  const ids = new Set(state.nodes.map((n) => n.id));
  const pgAlive = state.postgres != null && isOurRecordedPostgres(state.postgres);
  const postgres = state.postgres == null ? null : { pid: state.postgres.pid, alive: pgAlive, listening: pgAlive && (await portAnswers(state.postgres.port)), url: state.postgres.url };
  const kafkaAlive = state.kafka != null && isOurBroker(state.kafka);
  const kafka = state.kafka == null ? null : { pid: state.kafka.pid, alive: kafkaAlive, listening: kafkaAlive && (await portAnswers(state.kafka.port)), bootstrap: state.kafka.bootstrap };
  const healthy = (consul?.ready ?? false) && members.every((m) => m.listening) && (postgres === null || postgres.listening) && (kafka === null || kafka.listening) && nodes.every((n) => n.ready === 'ready' && n.consul === 'passing');
  return {
    name: state.name,
    dir: state.dir,
    consul,
    hazelcast: state.hazelcast === null ? null : { clusterName: state.hazelcast.clusterName, members },
    postgres,
    kafka,
    nodes,
    passing,
    others: Array.isArray(passing) ? passing.filter((id) => !ids.has(id)) : [],
    healthy,
  };
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'NO');

export async function status(dir: string, json: boolean, out: Out, err: Out): Promise<number> {
  const s = await collectStatus(dir);
  if (s === undefined) {
    if (json) out(JSON.stringify({ dir, running: false }));
    else err(`no cluster recorded in ${dir}`);
    return 1;
  }
  if (json) {
    out(JSON.stringify(s, null, 2));
    return s.healthy ? 0 : 1;
  }
  const rows: string[][] = [];
  if (s.consul !== null) rows.push(['consul', String(s.consul.pid), yesNo(s.consul.alive), s.consul.alive ? yesNo(s.consul.ready) : '-', '-', '-', '-', s.consul.url]);
  for (const [i, m] of (s.hazelcast?.members ?? []).entries()) {
    rows.push([`hazelcast-${i + 1}`, String(m.pid), yesNo(m.alive), m.alive ? yesNo(m.listening) : '-', '-', '-', '-', m.address]);
  }
  if (s.postgres !== null) rows.push(['postgres', String(s.postgres.pid), yesNo(s.postgres.alive), s.postgres.alive ? yesNo(s.postgres.listening) : '-', '-', '-', '-', s.postgres.url]);
  if (s.kafka !== null) rows.push(['kafka', String(s.kafka.pid), yesNo(s.kafka.alive), s.kafka.alive ? yesNo(s.kafka.listening) : '-', '-', '-', '-', s.kafka.bootstrap]);
  for (const n of s.nodes) {
    const ready = n.ready === 'ready' ? 'yes' : n.ready === '-' ? '-' : `NO (${n.ready})`;
    const consul = n.consul === 'passing' ? 'passing' : n.consul === 'unknown' ? '?' : 'NOT PASSING';
    rows.push([n.id, String(n.pid), yesNo(n.alive), ready, consul, n.members === null ? '-' : String(n.members.length), n.zone === '' ? '-' : n.zone, n.ws]);
  }
  out(`cluster '${s.name}' (${s.dir})`);
  for (const line of formatTable(['PROCESS', 'PID', 'ALIVE', 'READY', 'CONSUL', 'SEES', 'ZONE', 'ADDRESS'], rows)) out(line);
  out('  (SEES: how many members the node\'s own cluster view lists)');
  out('');
  out(`  ${passingSummary(s.nodes.map((n) => n.id), s.passing)}`);
  if (s.others.length > 0) out(`  consul also lists as passing: ${s.others.join(', ')} (not started from this folder)`);
  const dead = s.nodes.filter((n) => !n.alive).map((n) => n.id);
  if (dead.length > 0) out(`  restart with: ${commandHint(s.dir, `start ${dead[0]}`)}`);
  return s.healthy ? 0 : 1;
}
