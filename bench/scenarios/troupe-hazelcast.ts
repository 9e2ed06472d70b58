import { startTroupeNode, troupeMissing } from '../lib/troupe-node.js';
import type { Scenario } from '../scenario.js';

/**
 * Where the node keeps Counter records: `troupe.actor.<type>`, as named in
 * grid/hazelcast/names.ts and configured in member/hazelcast.xml. Cleared
 * before each node starts, so every row (and every row of the commit-window
 * sweep) begins with no counters, as the peers' fresh maps do.
 */
const COUNTER_MAP = 'troupe.actor.Counter';

export const TROUPE_HAZELCAST = 'troupe-hazelcast';

/**
 * One Troupe node on the Hazelcast grid, driven like the `troupe` row.
 * `commitWindowMs` null leaves --commit-window at the node's default; the
 * commit-window sweep makes one scenario per window, `troupe-hazelcast-cw<ms>`.
 */
export function troupeHazelcast(commitWindowMs: number | null, inSweep = false): Scenario {
  const window = commitWindowMs === null ? 'default --commit-window' : `--commit-window ${commitWindowMs}`;
  return {
    name: inSweep ? `${TROUPE_HAZELCAST}-cw${commitWindowMs}` : TROUPE_HAZELCAST,
    family: TROUPE_HAZELCAST,
    kind: 'troupe',
    group: 'hazelcast',
    // Issue #3: at least twice what the same service built on Moleculer does;
    // issue #11: at least 0.9x of the raw client doing the same version-checked
    // write (issue #3 asked 0.7x).
    targets: { 'moleculer-hazelcast': 2, 'hazelcast-raw': 0.9 },
    description: `Troupe: one node (bin/troupe.js start --grid hazelcast, ${window}) hosting the Counter example, Counter.add(1) over WebSocket; each turn group commits with replaceIfSame on ${COUNTER_MAP}`,
    async start(ctx) {
      const missing = troupeMissing(ctx);
      if (missing !== null) return missing;
      const cluster = await ctx.hazelcast();
      await cluster.clearMap(COUNTER_MAP);
      return startTroupeNode(ctx, {
        extraArgs: [
          '--grid', 'hazelcast',
          '--hazelcast-cluster', cluster.clusterName,
          '--hazelcast-members', cluster.addresses.join(','),
          ...(commitWindowMs === null ? [] : ['--commit-window', String(commitWindowMs)]),
        ],
        alsoPids: [...cluster.pids],
      });
    },
  };
}
