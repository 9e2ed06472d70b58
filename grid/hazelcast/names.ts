/**
 * Names of the distributed objects Troupe uses. member/hazelcast.xml configures
 * them by these patterns (backup count, in-memory format), so a change here is
 * a change there too.
 */

/** One IMap per actor type: `troupe.actor.Account`. */
export function actorMapName(type: string): string {
  return `troupe.actor.${type}`;
}

/** Hot-data maps (GridMap): `troupe.map.sessions`. Clients put a near cache in front of these. */
export function hotMapName(name: string): string {
  return `troupe.map.${name}`;
}

/** Pattern the client's near-cache configuration matches hot maps with. */
export const HOT_MAP_PATTERN = 'troupe.map.*';

/** All counters live in one map, one entry per counter. */
export const COUNTERS_MAP = 'troupe.counters';

/** Entries of this map carry nothing; their key locks are the GridLocks. */
export const LOCKS_MAP = 'troupe.locks';
