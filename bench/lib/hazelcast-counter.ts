/**
 * Counter.add(1) on a Hazelcast IMap by hand, as a user of hazelcast-client
 * would write it without Troupe. Used by the hazelcast-raw load process and
 * by the Moleculer broker of moleculer-hazelcast.
 *
 * Values have the layout of Troupe's actor records (grid/hazelcast/
 * record-codec.ts), so every row moves the same bytes: an 8-byte version, an
 * 8-byte write id, then msgpack `[state, idem]` = `[{ total }, []]`. The write
 * id makes each write's bytes unique, so a version-checked replace can never
 * mistake another writer's identical state for its own.
 */
import type { ClientConfig, IMap } from 'hazelcast-client';
import { decodeRecord as decodeStored, encodeRecord as encodeStored } from '../../grid/hazelcast/record-codec.js';
import { decodeRecord, encodeRecord } from '../../runtime/record.js';

export function encodeTotal(version: number, total: number): Buffer {
  return encodeStored(version, encodeRecord({ state: { total }, idem: [] }));
}

export function decodeTotal(stored: Buffer): { version: number; total: number } {
  const { version, data } = decodeStored(stored);
  return { version, total: (decodeRecord(data).state as { total: number }).total };
}

/**
 * Client settings for the hand-written rows: hazelcast-client's defaults, as a
 * user would have them, except no logging, no metrics (Troupe's engine turns
 * them off too) and a 10 s invocation timeout, so a lost member fails the row
 * instead of hanging it for the default 120 s.
 */
export function benchClientConfig(clusterName: string, members: readonly string[]): ClientConfig {
  return {
    clusterName,
    network: { clusterMembers: [...members] },
    connectionStrategy: { connectionRetry: { clusterConnectTimeoutMillis: 20_000 } },
    metrics: { enabled: false },
    properties: {
      'hazelcast.logging.level': 'OFF',
      'hazelcast.client.invocation.timeout.millis': 10_000,
    },
  };
}

/** Conflicts in a row on one key before a call fails; Troupe gives up after 16 as well. */
const MAX_ATTEMPTS = 16;

export interface CasOptions {
  /**
   * Start from the bytes this process last read or wrote instead of reading
   * the entry first: one round trip per call instead of two, as Troupe's
   * engine does it (grid/hazelcast/records.ts).
   */
  readonly cacheLastSeen: boolean;
  /**
   * Run the calls on one key one after the other, in this process, as an
   * actor's mailbox does. Without it, two calls on one key in flight together
   * both start from the same bytes and one of them conflicts and retries.
   */
  readonly oneAtATimePerKey: boolean;
}

/**
 * Version-checked read-modify-write: read the entry (or take the last-seen
 * bytes), compute the new total, `replaceIfSame(key, old, new)`; on a
 * conflict read again and retry. A key not there yet is created with
 * `putIfAbsent`.
 */
export class CasCounter {
  private readonly seen: Map<string, Buffer> | null;
  /** Per key, the end of its chain of calls (oneAtATimePerKey); removed when the chain drains. */
  private readonly tails = new Map<string, Promise<unknown>>();
  /** replaceIfSame or putIfAbsent calls that lost to another write of the same key. */
  conflicts = 0;

  constructor(private readonly map: IMap<string, Buffer>, private readonly o: CasOptions) {
    this.seen = o.cacheLastSeen ? new Map() : null;
  }

  add(key: string, by: number): Promise<number> {
    if (!this.o.oneAtATimePerKey) return this.write(key, by);
    const before = this.tails.get(key);
    const run = before === undefined ? this.write(key, by) : before.then(() => this.write(key, by), () => this.write(key, by));
    this.tails.set(key, run);
    const forget = (): void => {
      if (this.tails.get(key) === run) this.tails.delete(key);
    };
    run.then(forget, forget);
    return run;
  }

  private async write(key: string, by: number): Promise<number> {
    let old = this.seen?.get(key);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (old === undefined) {
        const stored = await this.map.get(key);
        if (stored == null) {
          const created = encodeTotal(1, by);
          const existing = await this.map.putIfAbsent(key, created);
          if (existing == null) {
            this.seen?.set(key, created);
            return by;
          }
          this.conflicts++;
          old = existing;
          continue;
        }
        old = stored;
      }
      const { version, total } = decodeTotal(old);
      const next = encodeTotal(version + 1, total + by);
      if (await this.map.replaceIfSame(key, old, next)) {
        this.seen?.set(key, next);
        return total + by;
      }
      this.conflicts++;
      old = undefined;
    }
    throw new Error(`E_CONFLICT: ${MAX_ATTEMPTS} conflicting writes in a row on counter '${key}'`);
  }
}

/**
 * The ceiling: a blind `set` of the new total, computed from a local copy.
 * No read and no check, so it is only correct with a single writer; it shows
 * what one round trip per call costs with nothing else in it.
 */
export class BlindSetCounter {
  private readonly totals = new Map<string, number>();

  constructor(private readonly map: IMap<string, Buffer>) {}

  async add(key: string, by: number): Promise<number> {
    const total = (this.totals.get(key) ?? 0) + by;
    this.totals.set(key, total);
    await this.map.set(key, encodeTotal(total, total));
    return total;
  }
}
