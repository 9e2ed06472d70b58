/**
 * Names of the distributed objects Troupe uses. member/hazelcast.xml configures
 * them by these patterns (backup count, in-memory format), so a change here is
 * a change there too.
 */

/** One IMap per actor type: `troupe.actor.Account`. */
export function actorMapName(type: string): string {
  return `troupe.actor.${type}`;
}

/**
 * Existence markers, one map per actor type: `troupe.exists.Account`. An
 * entry per actor that ever had a record, kept apart from the records so that
 * losing a record is reported (E_DATA_LOST) instead of starting it afresh.
 */
export function markerMapName(type: string): string {
  return `troupe.exists.${type}`;
}

/** Each member's durability report (JSON, one entry per member, with a TTL), written by the members themselves. */
export const DURABILITY_MAP = 'troupe.durability';

/** Hot-data maps (GridMap): `troupe.map.sessions`. Clients put a near cache in front of these. */
export function hotMapName(name: string): string {
  return `troupe.map.${name}`;
}

/** Consistent hot-data maps (no near cache): `troupe.cmap.troupe.sagas`. */
export function consistentMapName(name: string): string {
  return `troupe.cmap.${name}`;
}

/** Pattern the client's near-cache configuration matches hot maps with. */
export const HOT_MAP_PATTERN = 'troupe.map.*';

/** All counters live in one map, one entry per counter. */
export const COUNTERS_MAP = 'troupe.counters';

/** Entries of this map carry nothing; their key locks are the GridLocks. */
export const LOCKS_MAP = 'troupe.locks';

/** Each lock's fencing-token counter, in the counters map: `troupe.lock-token:<name>`. */
export const LOCK_TOKEN_PREFIX = 'troupe.lock-token:';

/** The wake index (see wake-index.ts). */
export const WAKE_MAP = 'troupe.wake';
