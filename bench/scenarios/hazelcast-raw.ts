import type { Scenario, ScenarioContext, Target } from '../scenario.js';

async function rawTarget(ctx: ScenarioContext, mode: 'cas' | 'set'): Promise<Target> {
  const cluster = await ctx.hazelcast();
  const map = cluster.freshMapName(`raw-${mode}`);
  ctx.progress(`map ${map} on ${cluster.addresses.join(', ')}`);
  return {
    driver: { name: 'hazelcast', clusterName: cluster.clusterName, members: cluster.addresses, map, mode },
    // No server of ours: the members are the server side.
    pids: cluster.pids,
    stop: async () => {},
  };
}

/**
 * hazelcast-client in the load process, doing per call what a Troupe node does
 * per Counter.add on the grid: one version-checked write of the entry.
 */
export const hazelcastRaw: Scenario = {
  name: 'hazelcast-raw',
  kind: 'peer',
  group: 'hazelcast',
  description: 'raw hazelcast-client 5.6 in the load process: replaceIfSame(key, last-seen bytes, new bytes) per call (get and retry on conflict, putIfAbsent for a new key), Troupe\'s record layout',
  start: (ctx) => rawTarget(ctx, 'cas'),
};

/** The ceiling: one blind IMap.set per call, no read and no version check. */
export const hazelcastRawSet: Scenario = {
  name: 'hazelcast-raw-set',
  kind: 'peer',
  group: 'hazelcast',
  description: 'ceiling: raw hazelcast-client 5.6, one blind IMap.set per call (total kept in the load process; no read, no check; single writer only)',
  start: (ctx) => rawTarget(ctx, 'set'),
};
