import type { Client } from 'hazelcast-client';
import type { GridDurability } from '../grid.js';
import { DURABILITY_MAP } from './names.js';

/** One member's report, as DurabilityPublisher (grid/hazelcast/member/store) writes it. */
interface MemberReport {
  readonly member?: string;
  readonly mode?: string;
  readonly writeDelaySeconds?: number;
  readonly store?: string;
  readonly database?: string;
  readonly quorum?: number;
  readonly lastStoreSuccessAt?: number;
  readonly lastStoreFailureAt?: number;
  readonly lastStoreFailure?: string;
}

const EVERY_MS = 5_000;
/** A store failure this recent shows in the detail: the store is (or just was) refusing writes. */
const RECENT_FAILURE_MS = 30_000;

/**
 * How the members keep data, for `health()`: the members publish it
 * themselves in a small map (one JSON entry each, with a TTL), so the node
 * reports what the members were started with rather than what it was told.
 * Read every 5 s off the hot path; `health()` only returns the last summary.
 */
export class DurabilityWatch {
  private last: GridDurability = { mode: 'unknown', detail: 'no member has reported yet' };
  private timer: NodeJS.Timeout | undefined;
  private reading = false;

  constructor(private readonly client: () => Client | undefined) {}

  get current(): GridDurability {
    return this.last;
  }

  start(): void {
    if (this.timer !== undefined) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the map once; a failure (grid unreachable) keeps the last summary. */
  async refresh(): Promise<GridDurability> {
    const client = this.client();
    if (client === undefined || this.reading) return this.last;
    this.reading = true;
    try {
      const values = await (await client.getMap<string, string>(DURABILITY_MAP)).values();
      const reports: MemberReport[] = [];
      for (const v of values) {
        try {
          reports.push(JSON.parse(String(v)) as MemberReport);
        } catch {
          // Not ours: ignore.
        }
      }
      this.last = summarize(reports, Date.now());
    } catch {
      // Keep the last summary; the next round tries again.
    } finally {
      this.reading = false;
    }
    return this.last;
  }
}

export function summarize(reports: readonly MemberReport[], now: number): GridDurability {
  if (reports.length === 0) return { mode: 'unknown', detail: 'no member reports its durability (members without Troupe\'s member jar, or just started)' };
  const modes = new Set(reports.map((r) => r.mode ?? 'unknown'));
  const only = modes.size === 1 ? [...modes][0]! : 'mixed';
  const mode = (['none', 'write-through', 'write-behind'].includes(only) ? only : only === 'mixed' ? 'mixed' : 'unknown') as GridDurability['mode'];
  const failing = reports.filter((r) => (r.lastStoreFailureAt ?? 0) > (r.lastStoreSuccessAt ?? 0) && now - (r.lastStoreFailureAt ?? 0) < RECENT_FAILURE_MS);
  const databases = [...new Set(reports.map((r) => r.database).filter((d): d is string => typeof d === 'string' && d !== ''))];
  const parts: string[] = [];
  if (mode === 'mixed') parts.push(`members disagree: ${reports.map((r) => `${r.member ?? '?'} ${r.mode ?? '?'}`).join(', ')}`);
  if (databases.length > 0) parts.push(`database ${databases.join(', ')}`);
  if (failing.length > 0) parts.push(`store failing on ${failing.map((r) => r.member ?? '?').join(', ')}: ${failing[0]!.lastStoreFailure ?? ''}`);
  return {
    mode,
    store: reports.find((r) => r.store !== undefined && r.store !== 'none')?.store ?? 'none',
    writeDelaySeconds: Math.max(0, ...reports.map((r) => r.writeDelaySeconds ?? 0)),
    members: reports.length,
    quorum: Math.max(0, ...reports.map((r) => r.quorum ?? 0)),
    ...(parts.length === 0 ? {} : { detail: parts.join('; ') }),
  };
}
