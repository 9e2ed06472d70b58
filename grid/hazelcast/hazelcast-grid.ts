import type { IMap } from 'hazelcast-client';
import { decodeStored, encodeFenced, encodeValue as pack, fenceOf } from '../value-codec.js';
import { Errors } from '../../protocol/errors.js';
import type { Grid, GridCounter, GridHealth, GridLockHandle, GridMap, RecordKey, RecordRead, RecordWrite, WriteOutcome } from '../grid.js';
import { ClientSupervisor } from './client-supervisor.js';
import { Counters } from './counters.js';
import { DurabilityWatch } from './durability-watch.js';
import { toGridError } from './hazelcast-errors.js';
import { QuorumProbe, QuorumWatch } from './quorum-watch.js';
import { LastSeen } from './last-seen.js';
import { Locks } from './locks.js';
import { COUNTERS_MAP, LOCK_TOKEN_PREFIX, LOCKS_MAP, WAKE_MAP, consistentMapName, hotMapName } from './names.js';
import { type HazelcastGridOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { RecordStore } from './records.js';
import { HazelcastWakeIndex } from './wake-index.js';
import type { WakeIndex } from '../wake-index.js';

export type { HazelcastGridOptions } from './options.js';

type Phase = 'new' | 'starting' | 'open' | 'closed';

/**
 * The Grid on a Hazelcast cluster, through hazelcast-client.
 *
 * Storage layout (see names.ts and member/hazelcast.xml): one IMap per actor
 * type holding version-prefixed byte[] records; hot data in near-cached maps;
 * counters and locks as entries of two shared maps.
 *
 * Availability: the client reconnects in the background (ASYNC mode). While it
 * has no connection every operation fails at once with E_UNAVAILABLE instead
 * of waiting, `health().ready` is false, and both recover by themselves once
 * a member answers again. An operation that cannot finish within
 * `invocationTimeoutMs` (retries included) also fails with E_UNAVAILABLE.
 */
export class HazelcastGrid implements Grid {
  readonly engine = 'hazelcast';
  private readonly options: ResolvedOptions;
  private phase: Phase = 'new';
  private starting: Promise<void> | undefined;
  private readonly supervisor: ClientSupervisor;
  private readonly maps = new Map<string, IMap<string, Buffer>>();
  private readonly seen: LastSeen;
  private readonly records: RecordStore;
  private readonly counters: Counters;
  private readonly locks: Locks;
  private readonly wakes: WakeIndex;
  /** The bytes of fenced hot-map writes this node made last, per entry (see fencedSet). */
  private readonly fencedSeen = new Map<string, Buffer>();
  private readonly durability: DurabilityWatch;
  private readonly quorum = new QuorumWatch();
  // Any map under troupe.* carries the members' split-brain protection; this one holds nothing.
  private readonly quorumProbe = new QuorumProbe(this.quorum, () => this.guard(async () => (await this.mapOf(hotMapName('quorum-probe'))).get('probe')));
  private readonly resetListeners: (() => void)[] = [];

  constructor(options: HazelcastGridOptions) {
    this.options = resolveOptions(options);
    // A replacement client has its own proxies; cached byte copies stay valid hints.
    // Either way the members may have restarted meanwhile: callers re-read what they cached.
    this.supervisor = new ClientSupervisor(
      this.options,
      () => {
        this.maps.clear();
        this.reset();
      },
      () => this.reset(),
    );
    this.seen = new LastSeen(this.options.lastSeenCapacity);
    const mapOf = (name: string) => this.mapOf(name);
    this.records = new RecordStore(mapOf, this.seen, this.options.clusterName);
    this.counters = new Counters(() => this.mapOf(COUNTERS_MAP), this.options.invocationTimeoutMs);
    this.locks = new Locks(() => this.mapOf(LOCKS_MAP), (name) => this.counters.addAndGet(`${LOCK_TOKEN_PREFIX}${name}`, 1));
    this.wakes = new HazelcastWakeIndex(() => this.mapOf(WAKE_MAP), (op) => this.guard(op));
    this.durability = new DurabilityWatch(() => (this.supervisor.connected ? this.supervisor.current : undefined));
  }

  /**
   * Connects to every member; fails with E_UNAVAILABLE when none answers
   * within `connectTimeoutMs`, leaving nothing running.
   */
  start(): Promise<void> {
    if (this.phase === 'open') return Promise.resolve();
    // A second start() while connecting waits for the same connection.
    if (this.phase === 'starting' && this.starting !== undefined) return this.starting;
    this.phase = 'starting';
    this.starting = (async () => {
      try {
        await this.supervisor.start();
      } catch (err) {
        this.phase = 'closed';
        await this.supervisor.close();
        throw err;
      } finally {
        this.starting = undefined;
      }
      if (this.phase === 'starting') this.phase = 'open';
      this.durability.start();
    })();
    return this.starting;
  }

  /** Disconnects. The member frees this client's locks; in-flight operations fail with E_UNAVAILABLE. Idempotent. */
  async close(): Promise<void> {
    const wasOpen = this.phase === 'open' || this.phase === 'starting';
    this.phase = 'closed';
    this.durability.stop();
    this.quorumProbe.stop();
    if (!wasOpen) return;
    this.maps.clear();
    this.seen.clear();
    this.counters.clear();
    await this.supervisor.close();
  }

  health(): GridHealth {
    const name = this.options.clusterName;
    switch (this.phase) {
      case 'new':
        return { ready: false, detail: 'not started' };
      case 'starting':
        return { ready: false, detail: `connecting to cluster '${name}'` };
      case 'closed':
        return { ready: false, detail: 'closed' };
      case 'open': {
        const client = this.supervisor.current;
        const durability = this.durability.current;
        if (!this.supervisor.connected || client === undefined) return { ready: false, detail: `disconnected from cluster '${name}'; reconnecting`, durability };
        const refusing = this.quorum.refusing();
        if (refusing !== undefined) return { ready: false, detail: `cluster '${name}' refuses work: ${refusing}`, durability };
        return { ready: true, detail: `connected to cluster '${name}' (${client.getCluster().getMembers().length} members)`, durability };
      }
    }
  }

  onReset(listener: () => void): void {
    this.resetListeners.push(listener);
  }

  private reset(): void {
    for (const l of this.resetListeners) l();
  }

  readRecords(keys: readonly RecordKey[]): Promise<RecordRead[]> {
    return this.guard(() => this.records.read(keys));
  }

  commit(writes: readonly RecordWrite[]): Promise<WriteOutcome[]> {
    return this.guard(() => this.records.commit(writes));
  }

  wakeIndex(): WakeIndex {
    return this.wakes;
  }

  map(name: string, options?: { readonly consistent?: boolean }): GridMap {
    const mapName = options?.consistent === true ? consistentMapName(name) : hotMapName(name);
    // Values are msgpack bytes, so a caller mutating an object after set() cannot change what is stored.
    return {
      get: (key) =>
        this.guard(async () => {
          const v = await (await this.mapOf(mapName)).get(key);
          return v == null ? undefined : decodeStored(v).value;
        }),
      set: (key, value, fence) =>
        this.guard(async () => {
          const map = await this.mapOf(mapName);
          if (fence === undefined) return map.set(key, pack(value));
          return fencedSet(map, key, encodeFenced(value, fence), fence, this.fencedSeen, `${mapName}\u0000${key}`);
        }),
      delete: (key) => this.guard(async () => (await (await this.mapOf(mapName)).remove(key)) != null),
      keys: () => this.guard(async () => (await (await this.mapOf(mapName)).keySet()) as string[]),
    };
  }

  counter(name: string): GridCounter {
    return {
      get: () => this.guard(() => this.counters.get(name)),
      addAndGet: (delta) => this.guard(() => this.counters.addAndGet(name, delta)),
    };
  }

  lock(name: string, leaseMs: number, waitMs = leaseMs): Promise<GridLockHandle> {
    return this.guard(async () => {
      const handle = await this.locks.lock(name, leaseMs, waitMs);
      // Not guarded: a release must reach Locks even while offline, so it can keep the lock's local queue consistent.
      return {
        token: handle.token,
        expiresAt: handle.expiresAt,
        release: () =>
          handle.release().catch((err: unknown) => {
            throw toGridError(err, this.options.clusterName);
          }),
      };
    });
  }

  /**
   * Every operation runs through here: refuse at once when closed or offline
   * (no call into the client, so nothing can hang), and turn client failures
   * into E_UNAVAILABLE.
   */
  private async guard<T>(op: () => Promise<T>): Promise<T> {
    if (this.phase !== 'open') throw Errors.unavailable(`the Hazelcast grid (${this.phase === 'closed' ? 'closed' : 'not started'})`);
    if (!this.supervisor.connected) throw Errors.unavailable(`the Hazelcast grid (disconnected from cluster '${this.options.clusterName}')`);
    try {
      const result = await op();
      this.quorum.succeeded();
      return result;
    } catch (err) {
      if (this.quorum.failed(err)) this.quorumProbe.arm();
      throw toGridError(err, this.options.clusterName);
    }
  }

  private mapOf(name: string): IMap<string, Buffer> | Promise<IMap<string, Buffer>> {
    const cached = this.maps.get(name);
    if (cached !== undefined) return cached;
    const client = this.supervisor.current;
    if (client === undefined) throw Errors.unavailable('the Hazelcast grid (closed)');
    return client.getMap<string, Buffer>(name).then((m) => {
      if (this.supervisor.current === client) this.maps.set(name, m);
      return m;
    });
  }
}

/** Compare-and-set rounds of a fenced write before it gives up (other writers keep winning). */
const FENCED_SET_ATTEMPTS = 16;
/** Fenced entries whose last written bytes this node remembers (a saga's journal entry, written at every step). */
const FENCED_SEEN_MAX = 10_000;

/**
 * Writes `bytes` unless the entry holds a value written under a newer token
 * (then E_FENCED). The bytes this node wrote last for the entry are tried
 * first (one round trip: replace(key, old, new)); only when the entry moved
 * on does it read what is there.
 */
async function fencedSet(map: IMap<string, Buffer>, key: string, bytes: Buffer, fence: number, seen: Map<string, Buffer>, id: string): Promise<void> {
  const last = seen.get(id);
  // Only over bytes written under this token or an older one: a newer holder's bytes are never replaced by an older one's.
  if (last !== undefined && fenceOf(last) <= fence && (await map.replaceIfSame(key, last, bytes))) {
    remember(seen, id, bytes);
    return;
  }
  for (let i = 0; i < FENCED_SET_ATTEMPTS; i++) {
    const stored = await map.get(key);
    if (stored == null) {
      if ((await map.putIfAbsent(key, bytes)) == null) return remember(seen, id, bytes);
      continue;
    }
    const newer = fenceOf(stored);
    if (newer > fence) {
      seen.delete(id);
      throw Errors.fenced(`hot-map entry '${key}'`, fence, newer);
    }
    if (await map.replaceIfSame(key, stored, bytes)) return remember(seen, id, bytes);
  }
  throw Errors.unavailable(`hot-map entry '${key}' (changed by others ${FENCED_SET_ATTEMPTS} times in a row)`);
}

function remember(seen: Map<string, Buffer>, id: string, bytes: Buffer): void {
  seen.delete(id);
  seen.set(id, bytes);
  if (seen.size > FENCED_SEEN_MAX) seen.delete(seen.keys().next().value!);
}
