import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { COUNTER_ACTOR } from '../lib/troupe-node.js';
import type { Scenario } from '../scenario.js';
import { troupe } from './troupe.js';
import { troupeHazelcast } from './troupe-hazelcast.js';
import { troupeTwoNodeCross } from './troupe-cluster.js';

/**
 * The `troupe`, `troupe-hazelcast` and `troupe-2node-cross` rows run from an older checkout
 * (BENCH_BASELINE), as peers of the current rows in their groups, so the
 * ratio table shows current / baseline for a change measured in one run.
 * The client (this checkout's SDK) and everything else stay the same.
 */
export function baselineScenarios(root: string): Scenario[] {
  const build = (inner: Scenario): Scenario => ({
    name: `${inner.name}@baseline`,
    kind: 'peer',
    ...(inner.group === undefined ? {} : { group: inner.group }),
    description: `${inner.description} (run from the baseline checkout ${root})`,
    async start(ctx) {
      if (!existsSync(join(root, COUNTER_ACTOR))) return { skipped: `the baseline checkout has no build: ${join(root, COUNTER_ACTOR)} missing` };
      // The inner scenario starts its node from the baseline's root; members and client are this run's.
      return inner.start({ ...ctx, root });
    },
  });
  return [build(troupe), build(troupeHazelcast(null)), build(troupeTwoNodeCross)];
}

