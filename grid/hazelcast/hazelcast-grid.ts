import type { IMap } from 'hazelcast-client';
import { decodeValue as unpack, encodeValue as pack } from '../value-codec.js';
import { Errors } from '../../protocol/errors.js';
import type { Grid, GridCounter, GridHealth, GridLockHandle, GridMap, RecordKey, RecordWrite, VersionedRecord, WriteOutcome } from '../grid.js';
import { ClientSupervisor } from './client-supervisor.js';
import { Counters } from './counters.js';
import { toGridError } from './hazelcast-errors.js';
import { LastSeen } from './last-seen.js';
import { Locks } from './locks.js';
import { COUNTERS_MAP, LOCKS_MAP, hotMapName } from './names.js';
import { type HazelcastGridOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { RecordStore } from './records.js';

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

  constructor(options: HazelcastGridOptions) {
    this.options = resolveOptions(options);
    // A replacement client has its own proxies; cached byte copies stay valid hints.
    this.supervisor = new ClientSupervisor(this.options, () => this.maps.clear());
    this.seen = new LastSeen(this.options.lastSeenCapacity);
    const mapOf = (name: string) => this.mapOf(name);
    this.records = new RecordStore(mapOf, this.seen);
    this.counters = new Counters(() => this.mapOf(COUNTERS_MAP), this.options.invocationTimeoutMs);
    this.locks = new Locks(() => this.mapOf(LOCKS_MAP));
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
    })();
    return this.starting;
  }

  /** Disconnects. The member frees this client's locks; in-flight operations fail with E_UNAVAILABLE. Idempotent. */
  async close(): Promise<void> {
    const wasOpen = this.phase === 'open' || this.phase === 'starting';
    this.phase = 'closed';
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
        if (!this.supervisor.connected || client === undefined) return { ready: false, detail: `disconnected from cluster '${name}'; reconnecting` };
        return { ready: true, detail: `connected to cluster '${name}' (${client.getCluster().getMembers().length} members)` };
      }
    }
  }

  readRecords(keys: readonly RecordKey[]): Promise<(VersionedRecord | undefined)[]> {
    return this.guard(() => this.records.read(keys));
  }

  commit(writes: readonly RecordWrite[]): Promise<WriteOutcome[]> {
    return this.guard(() => this.records.commit(writes));
  }

  map(name: string): GridMap {
    const mapName = hotMapName(name);
    // Values are msgpack bytes, so a caller mutating an object after set() cannot change what is stored.
    return {
      get: (key) =>
        this.guard(async () => {
          const v = await (await this.mapOf(mapName)).get(key);
          return v == null ? undefined : unpack(v);
        }),
      set: (key, value) => this.guard(async () => (await this.mapOf(mapName)).set(key, pack(value))),
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

  lock(name: string, timeoutMs: number): Promise<GridLockHandle> {
    return this.guard(async () => {
      const handle = await this.locks.lock(name, timeoutMs);
      // Not guarded: a release must reach Locks even while offline, so it can keep the lock's local queue consistent.
      return {
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
      return await op();
    } catch (err) {
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
