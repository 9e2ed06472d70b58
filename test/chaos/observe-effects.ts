/**
 * After the chaos, for the relay and reminder workloads: wait until every
 * node's outbox is empty and every reminder is past due (plus time for a
 * failover), then read the counters and what each Ticker fired.
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

export async function readReminders(client: TroupeClient, tickers: readonly string[], reminders: readonly ScheduledReminder[]): Promise<{ outcomes: ReminderOutcome[]; lateness: number[] }> {
  const fired = new Map<string, Record<string, number> | null>();
  const lateness: number[] = [];
  await mapLimit(tickers, PARALLEL, async (t) => {
    const f = await callWithRetries<Record<string, number>>(client, 'Ticker', t, 'fired', [], { attempts: ATTEMPTS, timeoutMs: CALL_TIMEOUT_MS });
    fired.set(t, f.ok ? f.value : null);
    const l = await callWithRetries<Record<string, number>>(client, 'Ticker', t, 'lateness', [], { attempts: ATTEMPTS, timeoutMs: CALL_TIMEOUT_MS });
    if (l.ok) lateness.push(...Object.values(l.value));
  });
  lateness.sort((a, b) => a - b);
  const outcomes = reminders.map((r): ReminderOutcome => {
    const f = fired.get(r.ticker);
    return { ...r, fired: f === null || f === undefined ? null : (f[r.id] ?? 0) };
  });
  return { outcomes, lateness };
}
