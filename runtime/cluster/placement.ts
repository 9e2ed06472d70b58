import { SHARD_COUNT, shardOf } from '../placement/shards.js';

/**
 * Which node owns which shard. Every node computes it from the same member
 * list with rendezvous (highest-random-weight) hashing: each shard goes to
 * the member with the highest hash of (member, shard). No coordinator, so no
 * single point of failure; and adding or removing one member moves only the
 * shards that member wins or held, about 1/N of them.
 *
 * While two nodes see different member lists (a join or failure not yet seen
 * everywhere) they may both believe they own a shard. That is safe: every
 * write is version-checked in the grid, so the loser of a race re-runs its
 * turns on the newer state; calls forwarded between them are executed by the
 * node they were sent to.
 */
export class Placement {
  private members: readonly string[] = [];
  private owners: string[] = new Array(SHARD_COUNT).fill('');
  private version = 0;

  constructor(readonly selfId: string) {
    this.update([selfId]);
  }

  /** Recomputes ownership; returns the shards this node gained (with who owned each before) and lost. */
  update(memberIds: readonly string[]): { gained: number[]; gainedFrom: Map<number, string>; lost: number[]; moved: number } {
    const members = [...new Set(memberIds)].sort();
    const owners = new Array<string>(SHARD_COUNT);
    const gained: number[] = [];
    const gainedFrom = new Map<number, string>();
    const lost: number[] = [];
    let moved = 0;
    for (let shard = 0; shard < SHARD_COUNT; shard++) {
      let best = '';
      let bestScore = -1;
      for (const m of members) {
        const score = weight(m, shard);
        if (score > bestScore || (score === bestScore && m < best)) {
          best = m;
          bestScore = score;
        }
      }
      owners[shard] = best;
      const before = this.owners[shard];
      if (before !== best) {
        moved++;
        if (best === this.selfId) {
          gained.push(shard);
          gainedFrom.set(shard, before ?? '');
        }
        if (before === this.selfId) lost.push(shard);
      }
    }
    this.members = members;
    this.owners = owners;
    this.version++;
    return { gained, gainedFrom, lost, moved };
  }

  /** Owner of an identity's shard; '' when there are no members. */
  owner(type: string, key: string): string {
    return this.owners[shardOf(type, key)]!;
  }

  ownerOfShard(shard: number): string {
    return this.owners[shard]!;
  }

  isLocal(type: string, key: string): boolean {
    return this.owners[shardOf(type, key)] === this.selfId;
  }

  /** Shards owned by each member. */
  counts(): Map<string, number> {
    const out = new Map<string, number>(this.members.map((m) => [m, 0]));
    for (const o of this.owners) out.set(o, (out.get(o) ?? 0) + 1);
    return out;
  }

  get memberIds(): readonly string[] {
    return this.members;
  }

  /** Bumped on every update: lets callers tell whether a decision was made on the current view. */
  get epoch(): number {
    return this.version;
  }
}

/** 32-bit FNV-1a of member id and shard, then a finalizer so nearby shards do not correlate. */
function weight(member: string, shard: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < member.length; i++) {
    h ^= member.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= shard & 0xff;
  h = Math.imul(h, 0x01000193);
  h ^= shard >>> 8;
  h = Math.imul(h, 0x01000193);
  // murmur3 fmix32
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
