import type { DurabilityMode } from '../../runtime/cli/hazelcast/members.js';
import { startTroupeNode, troupeMissing } from '../lib/troupe-node.js';
import type { Scenario } from '../scenario.js';
import { TROUPE_HAZELCAST } from './troupe-hazelcast.js';

const COUNTER_MAP = 'troupe.actor.Counter';

/**
 * The `troupe-hazelcast` row with PostgreSQL behind the members (the durable
 * tier, issue #9): members of their own (grid/hazelcast/member/store's
 * MapStore, one PostgreSQL server of the run's own, fsync on), one per mode.
 * Server CPU includes PostgreSQL's.
 *
 * Write-behind should cost little: the members batch a second's changes
 * into one transaction, coalesced per key (target: at least 0.8x of the
 * row without a store). Write-through is reported as measured: every write
 * waits for its database commit, on a member partition thread.
 */
export function troupeHazelcastDurable(mode: DurabilityMode): Scenario {
  return {
    name: `${TROUPE_HAZELCAST}-${mode}`,
    family: 'troupe-hazelcast-durable',
    kind: 'troupe',
    group: 'hazelcast',
    baseline: TROUPE_HAZELCAST,
    ...(mode === 'write-behind' ? { targets: { [TROUPE_HAZELCAST]: 0.8 } } : {}),
    description: `the troupe-hazelcast row on members with PostgreSQL behind them, ${mode === 'write-through' ? 'write-through (a reply leaves once PostgreSQL committed the write)' : 'write-behind (changes stored in batches every second)'}; server CPU includes PostgreSQL`,
    async start(ctx) {
      const missing = troupeMissing(ctx);
      if (missing !== null) return missing;
      const cluster = await ctx.hazelcast(mode);
      await cluster.clearMap(COUNTER_MAP);
      const node = await startTroupeNode(ctx, {
        extraArgs: ['--grid', 'hazelcast', '--hazelcast-cluster', cluster.clusterName, '--hazelcast-members', cluster.addresses.join(',')],
      });
      // The members' and PostgreSQL's processes, read at each level (backends come and go).
      const nodePid = node.pids[0]!;
      return {
        ...node,
        get pids() {
          return [nodePid, ...cluster.pids];
        },
      };
    },
  };
}
