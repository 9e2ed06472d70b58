import { startMoleculerRow } from '../lib/moleculer-server.js';
import type { Scenario } from '../scenario.js';

/**
 * What a user would build instead of Troupe: the moleculer-tcp setup, with the
 * counter service keeping its totals in a Hazelcast IMap through
 * hazelcast-client, as safe as Troupe (version-checked, no lost updates).
 */
export const moleculerHazelcast: Scenario = {
  name: 'moleculer-hazelcast',
  kind: 'peer',
  group: 'hazelcast',
  description: 'Moleculer 0.14 as in moleculer-tcp-cbor, the add action on a Hazelcast IMap via hazelcast-client 5.6: add to the last-seen bytes, replaceIfSame (on conflict read and retry; putIfAbsent for a new key), one round trip per call as for Troupe',
  async start(ctx) {
    const cluster = await ctx.hazelcast();
    const map = cluster.freshMapName('moleculer');
    ctx.progress(`map ${map} on ${cluster.addresses.join(', ')}`);
    return startMoleculerRow(ctx, {
      serverNodeId: 'bench-counter-hz',
      clientNodeId: 'bench-client-hz',
      serializer: 'CBOR',
      storeArgs: ['hazelcast', cluster.clusterName, cluster.addresses.join(','), map],
      alsoPids: cluster.pids,
    });
  },
};
