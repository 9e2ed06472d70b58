/**
 * Every scenario, in table order. To add one, write a sibling module that
 * exports a `Scenario` and list it here; see bench/README.md.
 */
import type { BenchConfig } from '../config.js';
import type { Scenario } from '../scenario.js';
import { hazelcastRaw, hazelcastRawSet } from './hazelcast-raw.js';
import { moleculerHazelcast } from './moleculer-hazelcast.js';
import { moleculerTcp, moleculerTcpCbor } from './moleculer.js';
import { rawUws } from './raw-uws.js';
import { troupeHazelcast } from './troupe-hazelcast.js';
import { troupeHazelcastDurable } from './troupe-hazelcast-durable.js';
import { troupe, troupeThreads, troupeWs } from './troupe.js';
import { troupeTwoNodeCross, troupeTwoNodeLocal } from './troupe-cluster.js';
import { troupeRelay } from './troupe-relay.js';
import { baselineScenarios } from './baseline.js';

/**
 * The run's scenarios. BENCH_COMMIT_WINDOW_SWEEP replaces the troupe-hazelcast
 * row by one row per commit window (family troupe-hazelcast).
 */
export function scenariosFor(config: BenchConfig): readonly Scenario[] {
  const troupeOnHazelcast = config.commitWindowSweep === null
    ? [troupeHazelcast(config.commitWindowMs)]
    : config.commitWindowSweep.map((ms) => troupeHazelcast(ms, true));
  const baseline = config.baselineRoot === null ? null : baselineScenarios(config.baselineRoot);
  return [
    troupe,
    troupeWs,
    troupeThreads(1),
    troupeThreads(4),
    ...(baseline === null ? [] : [baseline[0]!]),
    moleculerTcp,
    moleculerTcpCbor,
    rawUws,
    troupeRelay,
    ...troupeOnHazelcast,
    ...(baseline === null ? [] : [baseline[1]!]),
    troupeHazelcastDurable('write-behind'),
    troupeHazelcastDurable('write-through'),
    moleculerHazelcast,
    hazelcastRaw,
    hazelcastRawSet,
    troupeTwoNodeLocal,
    troupeTwoNodeCross,
    ...(baseline === null ? [] : [baseline[2]!]),
  ];
}
