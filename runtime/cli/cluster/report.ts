/** What `up`, `start` and `add` print when they are done. */
import { passingIds } from './consul-agent.js';
import { nodeUrls } from './node-process.js';
import { DEFAULT_DIR } from './options.js';
import { sleep } from './processes.js';
import type { ClusterState } from './state.js';
import { dirFlag, formatTable, type Out } from './table.js';
import { resolve } from 'node:path';

export type Passing = string[] | { error: string };

/** Polls Consul's passing view until it lists every id in `ids`, at most `timeoutMs`; returns the last view. */
export async function waitForPassing(url: string, ids: readonly string[], timeoutMs: number): Promise<Passing> {
  const deadline = Date.now() + timeoutMs;
  let last: Passing = await passingIds(url);
  while (Date.now() < deadline) {
    const seen = last;
    if (Array.isArray(seen) && ids.every((id) => seen.includes(id))) return seen;
    await sleep(250);
    last = await passingIds(url);
  }
  return last;
}

/** One line on what Consul sees of `ids`; says so when nodes do not register at all. */
export function passingSummary(ids: readonly string[], passing: Passing): string {
  if (!Array.isArray(passing)) return `consul: could not read the passing view (${passing.error})`;
  const seen = ids.filter((id) => passing.includes(id));
  if (seen.length === ids.length) return `consul lists ${seen.length}/${ids.length} node(s) as passing`;
  const missing = ids.filter((id) => !passing.includes(id));
  const hint = passing.length === 0 ? ' (no troupe service registered: do these nodes run cluster mode?)' : '';
  return `consul lists ${seen.length}/${ids.length} node(s) as passing; not (yet): ${missing.join(', ')}${hint}`;
}

/** `troupe cluster <command>`, with `--dir` when the run folder is not the default one. */
export function commandHint(dir: string, command: string): string {
  return `troupe cluster ${command}${dirFlag(dir, resolve(DEFAULT_DIR))}`;
}

export function reportEndpoints(state: ClusterState, passing: Passing, out: Out): void {
  const cmd = (command: string): string => commandHint(state.dir, command);
  const last = state.nodes[state.nodes.length - 1]?.id ?? 'node-1';
  out(`cluster '${state.name}' is up; run folder ${state.dir}`);
  out('');
  if (state.consul !== null) out(`  consul     ${state.consul.url}   UI ${state.consul.url}/ui/   pid ${state.consul.pid}`);
  if (state.hazelcast !== null) {
    const hz = state.hazelcast;
    out(`  hazelcast  ${hz.members.map((m) => m.address).join(',')}   cluster ${hz.clusterName}   pid ${hz.members.map((m) => m.pid).join(',')}`);
  }
  if (state.postgres != null) out(`  postgres   ${state.postgres.url}   pid ${state.postgres.pid}   data ${state.postgres.dataDir}`);
  if (state.durability !== undefined) out(`  durability ${state.durability}`);
  if (state.kafka != null) out(`  kafka      ${state.kafka.bootstrap}   pid ${state.kafka.pid}   log ${state.kafka.log}`);
  for (const s of state.streams ?? []) out(`  stream     topic ${s.topic} (${s.partitions} partitions) into ${s.target} on every node`);
  out('');
  const rows = state.nodes.map((n) => {
    const u = nodeUrls(n);
    return [n.id, u.ws, u.http, u.link, n.zone === '' ? '-' : n.zone, String(n.pid), n.log];
  });
  for (const line of formatTable(['NODE', 'WEBSOCKET', 'HTTP', 'LINK', 'ZONE', 'PID', 'LOG'], rows)) out(line);
  out('');
  out(`  ${passingSummary(state.nodes.map((n) => n.id), passing)}`);
  out('');
  out(`  status   ${cmd('status')}`);
  out(`  crash    ${cmd(`kill ${last}`)}   then: ${cmd(`start ${last}`)}`);
  out(`  grow     ${cmd('add')}`);
  if ((state.streams ?? []).length > 0) out(`  scale    ${cmd('autoscale --max-nodes 4 --lag-target 5000')}`);
  out(`  stop     ${cmd('down')}`);
}
