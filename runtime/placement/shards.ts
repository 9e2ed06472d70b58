/**
 * Identities hash to a fixed number of shards (Hazelcast's partition count,
 * a prime, spreads well). The count is part of the cluster's contract: every
 * node must use the same one.
 */
export const SHARD_COUNT = 271;

/** FNV-1a over type, a separator and key: stable across nodes, processes and versions. */
export function shardOf(type: string, key: string, shards = SHARD_COUNT): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < type.length; i++) {
    h ^= type.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= 0;
  h = Math.imul(h, 0x01000193);
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}
