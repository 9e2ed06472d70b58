/**
 * After the chaos, for the relay and reminder workloads: wait until every
 * node's outbox is empty and every reminder is past due, then read the
 * counters and what each Ticker fired (waiting, bounded, for late firings).
 */
import type { TroupeClient } from '../../client/index.js';
import { callWithRetries, mapLimit } from './calls.js';
import type { ReminderOutcome } from './checks.js';
import type { ScheduledReminder } from './reminder-load.js';

const PARALLEL = 16;
const ATTEMPTS = 6;
const CALL_TIMEOUT_MS = 15_000;

/** Sum of one metric over the nodes' /metrics pages; null when a node did not answer. */
async function metricSum(urls: readonly string[], name: string): Promise<number | null> {
  let sum = 0;
  for (const u of urls) {
    try {
      const text = await (await fetch(`${u.replace('ws://', 'http://').replace('/v1/ws', '')}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
      sum += line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    } catch {
      return null;
    }
  }
  return sum;
}

/** Waits (bounded) until no node holds undelivered tells; returns how long it took, or -1 on timeout. */
export async function outboxesDrained(urls: readonly string[], timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if ((await metricSum(urls, 'troupe_outbox_pending')) === 0) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 250));
  }
  return -1;
}

export async function readCounters(client: TroupeClient, keys: readonly string[]): Promise<Map<string, number | null>> {
  const values = await mapLimit(keys, PARALLEL, async (k) => {
    const r = await callWithRetries<number>(client, 'Counter', k, 'get', [], { attempts: ATTEMPTS, timeoutMs: CALL_TIMEOUT_MS });
    return r.ok ? r.value : null;
  });
  return new Map(keys.map((k, i) => [k, values[i]!]));
}

/** What the Tickers recorded: firings and lateness per reminder, as read last. */
export interface ReminderReading {
  readonly outcomes: ReminderOutcome[];
  /** Every first firing's lateness, ms, sorted. */
  readonly lateness: number[];
  /** Per reminder (`ticker/id`), how late its first firing came, ms. */
  readonly latenessOf: ReadonlyMap<string, number>;
  /** Reminders that had not fired at the first read but did by a later one. */
  readonly seenLate: number;
}

/** Whether a reminder must fire: its schedule was acknowledged and no cancel removed it (or may have). */
function mustFire(r: ScheduledReminder): boolean {
  return r.scheduled && r.cancelled !== true && r.cancelUnknown !== true;
}

/**
 * Reads what each Ticker fired, then again (every second, only the Tickers
 * that still owe a firing) until every reminder that must fire has or
 * `untilMs` (epoch) passes: a reminder whose shard failed over more than
 * once under stacked faults fires late, and lateness is measured and
 * reported, while only one that never fires by then counts as missed.
 */
export async function readReminders(client: TroupeClient, tickers: readonly string[], reminders: readonly ScheduledReminder[], untilMs: number): Promise<ReminderReading> {
  const fired = new Map<string, Record<string, number> | null>();
  const late = new Map<string, Record<string, number>>();
  const read = async (keys: readonly string[]): Promise<void> => {
    await mapLimit(keys, PARALLEL, async (t) => {
      const f = await callWithRetries<Record<string, number>>(client, 'Ticker', t, 'fired', [], { attempts: ATTEMPTS, timeoutMs: CALL_TIMEOUT_MS });
      fired.set(t, f.ok ? f.value : null);
      const l = await callWithRetries<Record<string, number>>(client, 'Ticker', t, 'lateness', [], { attempts: ATTEMPTS, timeoutMs: CALL_TIMEOUT_MS });
      if (l.ok) late.set(t, l.value);
    });
  };
  const owing = (): ScheduledReminder[] => reminders.filter((r) => mustFire(r) && (fired.get(r.ticker)?.[r.id] ?? 0) === 0 && fired.get(r.ticker) !== null);
  await read(tickers);
  const firstOwing = owing().length;
  for (let left = owing(); left.length > 0 && Date.now() < untilMs; left = owing()) {
    await new Promise((r) => setTimeout(r, 1000));
    await read([...new Set(left.map((r) => r.ticker))]);
  }
  const latenessOf = new Map<string, number>();
  for (const [t, byId] of late) for (const [id, ms] of Object.entries(byId)) latenessOf.set(`${t}/${id}`, ms);
  const outcomes = reminders.map((r): ReminderOutcome => {
    const f = fired.get(r.ticker);
    return { ...r, fired: f === null || f === undefined ? null : (f[r.id] ?? 0) };
  });
  return { outcomes, lateness: [...latenessOf.values()].sort((a, b) => a - b), latenessOf, seenLate: firstOwing - owing().length };
}
