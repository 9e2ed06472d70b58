/**
 * The verdict: pure checks over what the run recorded and what it read back
 * after the chaos. No I/O here, so the rules can be read (and tested) alone.
 *
 * Why these prove the properties:
 * - Money: the sum of all balances equals what was deposited.
 * - Exactly once: each account's balance equals its deposit plus the
 *   amounts of the completed transfers into it minus those out of it. A
 *   completed transfer applied twice (or not at all), or a failed one that
 *   left a withdrawal uncompensated, breaks the equation of some account.
 * - Nothing unfinished: after the settle phase (resumers only) the saga
 *   journal is empty and no transfer says "running"; after the re-drive every
 *   transfer has an outcome, its status agrees, and the journal is still empty.
 * - Clients were told the truth: an outcome a client saw is the final one.
 */
import type { JournalEntryView } from './journal-reader.js';
import type { TransferRecord } from './load.js';

export type ViolationKind =
  | 'total_changed'
  | 'balance_mismatch'
  | 'balance_unreadable'
  | 'outcome_changed'
  | 'unresolved'
  | 'status_mismatch'
  | 'running_after_settle'
  | 'saga_unfinished'
  | 'journal_leftover'
  | 'relay_doubled'
  | 'relay_lost'
  | 'counter_unreadable'
  | 'reminder_missed'
  | 'reminder_doubled'
  | 'reminder_fired_after_cancel'
  | 'ticker_unreadable'
  | 'counter_lost'
  | 'counter_doubled'
  | 'counter_history'
  | 'stale_read';

export interface Violation {
  readonly kind: ViolationKind;
  readonly detail: string;
}

/** What the run read back from the cluster after the chaos. */
export interface Observed {
  /** Journal entries still there when the settle phase ended (the resumers had their chance). */
  readonly journalAfterSettle: readonly JournalEntryView[];
  /** `status().state` of every transfer after the settle phase, or `error:<code>`. */
  readonly statusAfterSettle: ReadonlyMap<string, string>;
  /** The answer of `start` called again with the same input: the outcome, or `error:<code>`. */
  readonly finalOutcome: ReadonlyMap<string, string>;
  /** `status().state` after the re-drive. */
  readonly finalStatus: ReadonlyMap<string, string>;
  /** Journal entries left after the re-drive. */
  readonly journalAfterRecheck: readonly JournalEntryView[];
  /** Balance per account, or null when it could not be read. */
  readonly balances: ReadonlyMap<string, number | null>;
  /** Transfer id → the journal phases in which a node's resumer picked it up ("running", "compensating", "done"). */
  readonly resumed: ReadonlyMap<string, readonly string[]>;
}

export interface Expectations {
  readonly accounts: readonly string[];
  readonly initialBalance: number;
  readonly transfers: readonly TransferRecord[];
}

/** Most violations of one kind listed one by one; the rest are counted. */
const LIST_PER_KIND = 20;

export function checkRun(e: Expectations, o: Observed): Violation[] {
  const out: Violation[] = [];
  const add = (kind: ViolationKind, detail: string): void => void out.push({ kind, detail });

  // Money and exactly-once, from the final outcomes.
  const expected = new Map(e.accounts.map((a) => [a, e.initialBalance]));
  for (const t of e.transfers) {
    if (o.finalOutcome.get(t.id) !== 'completed') continue;
    expected.set(t.from, expected.get(t.from)! - t.amount);
    expected.set(t.to, expected.get(t.to)! + t.amount);
  }
  const initialTotal = e.accounts.length * e.initialBalance;
  let total = 0;
  let readable = true;
  for (const a of e.accounts) {
    const actual = o.balances.get(a) ?? null;
    if (actual === null) {
      readable = false;
      add('balance_unreadable', `${a}: balance could not be read`);
      continue;
    }
    total += actual;
    const want = expected.get(a)!;
    if (actual !== want) {
      add('balance_mismatch', `${a}: balance ${actual}, expected ${want} (initial + completed in − completed out); off by ${actual - want}; ${involving(e.transfers, o, a, actual - want)}`);
    }
  }
  if (readable && total !== initialTotal) add('total_changed', `sum of balances ${total}, deposited ${initialTotal} (${total > initialTotal ? 'created' : 'destroyed'} ${Math.abs(total - initialTotal)})`);

  // Every transfer ends, once, and the ending agrees with what anyone was told.
  for (const t of e.transfers) {
    const final = o.finalOutcome.get(t.id) ?? 'missing';
    const settled = o.statusAfterSettle.get(t.id) ?? 'missing';
    const status = o.finalStatus.get(t.id) ?? 'missing';
    if (final !== 'completed' && final !== 'failed') {
      add('unresolved', `${t.id} (${describe(t)}): start again answered ${final}`);
      continue;
    }
    if ((t.seen === 'completed' || t.seen === 'failed') && t.seen !== final) {
      add('outcome_changed', `${t.id} (${describe(t)}): client saw ${t.seen}, final outcome ${final}`);
    }
    if ((settled === 'completed' || settled === 'failed') && settled !== final) {
      add('outcome_changed', `${t.id} (${describe(t)}): status after settle ${settled}, final outcome ${final}`);
    }
    if (settled === 'running') add('running_after_settle', `${t.id} (${describe(t)}): status "running" after the settle phase`);
    if (status !== final) add('status_mismatch', `${t.id} (${describe(t)}): start answered ${final}, status says ${status}`);
  }

  for (const j of o.journalAfterSettle) {
    add('saga_unfinished', `${j.id}: journal entry in phase ${j.phase}${j.outcome === null ? '' : ` (${j.outcome})`}, ${j.ageMs} ms old, after the settle phase`);
  }
  for (const j of o.journalAfterRecheck) {
    add('journal_leftover', `${j.id}: journal entry in phase ${j.phase}${j.outcome === null ? '' : ` (${j.outcome})`} left after every transfer ended`);
  }
  return cap(out);
}

/**
 * Relays: each counter holds the sum of its acknowledged amounts, plus at
 * most the amounts of calls never acknowledged (they may or may not have
 * taken effect). Above that bound an amount was applied twice; below the
 * acknowledged sum one was lost.
 */
export function checkRelays(expected: ReadonlyMap<string, { acked: number; unknown: number }>, totals: ReadonlyMap<string, number | null>): Violation[] {
  const out: Violation[] = [];
  for (const [key, e] of expected) {
    const total = totals.get(key) ?? null;
    if (total === null) out.push({ kind: 'counter_unreadable', detail: `${key}: could not be read` });
    else if (total > e.acked + e.unknown) out.push({ kind: 'relay_doubled', detail: `${key}: ${total}, at most ${e.acked + e.unknown} (${e.acked} acknowledged, ${e.unknown} unacknowledged)` });
    else if (total < e.acked) out.push({ kind: 'relay_lost', detail: `${key}: ${total}, at least ${e.acked} acknowledged` });
  }
  return cap(out);
}

/** A reminder as the checks see it: what the client was told, and how often it fired. */
export interface ReminderOutcome {
  readonly ticker: string;
  readonly id: string;
  readonly scheduled: boolean;
  readonly cancelled?: boolean;
  readonly cancelUnknown?: boolean;
  /** Firings recorded by the Ticker; null when it could not be read. */
  readonly fired: number | null;
}

/**
 * Reminders: an acknowledged one fires exactly once, unless a cancel
 * answered `true` (then never); with an unacknowledged schedule or cancel,
 * at most once.
 */
export function checkReminders(reminders: readonly ReminderOutcome[]): Violation[] {
  const out: Violation[] = [];
  for (const r of reminders) {
    const name = `${r.ticker}/${r.id}`;
    if (r.fired === null) {
      out.push({ kind: 'ticker_unreadable', detail: `${name}: could not be read` });
      continue;
    }
    if (r.fired > 1) out.push({ kind: 'reminder_doubled', detail: `${name}: fired ${r.fired} times` });
    else if (r.cancelled === true && r.fired > 0) out.push({ kind: 'reminder_fired_after_cancel', detail: `${name}: cancel answered true, yet it fired` });
    else if (r.scheduled && r.cancelled !== true && r.cancelUnknown !== true && r.fired === 0) out.push({ kind: 'reminder_missed', detail: `${name}: acknowledged, never fired` });
  }
  return cap(out);
}

function describe(t: TransferRecord): string {
  return `${t.from}→${t.to} ${t.amount}, client saw ${t.seen}`;
}

/**
 * Evidence for a balance that is off: the account's transfers a resumer
 * picked up in the middle (a re-run of their steps is where a double
 * application would come from), then those whose amount equals the
 * difference; each with what the client saw and when (ms since the load began).
 */
function involving(transfers: readonly TransferRecord[], o: Observed, account: string, diff: number): string {
  const mine = transfers.filter((t) => t.from === account || t.to === account);
  const completed = mine.filter((t) => o.finalOutcome.get(t.id) === 'completed').length;
  const midSaga = (t: TransferRecord): boolean => (o.resumed.get(t.id) ?? []).some((p) => p !== 'done');
  const resumed = mine.filter(midSaga).slice(0, 8);
  const exact = mine.filter((t) => t.amount === Math.abs(diff) && !midSaga(t)).slice(0, 4);
  const show = (t: TransferRecord): string =>
    `${t.id} ${t.from === account ? 'out' : 'in'} ${t.amount}: client saw ${t.seen} (sent t+${t.sentAt} ms, answered t+${t.answeredAt ?? '?'} ms)` +
    `${o.resumed.has(t.id) ? `, resumed ${phases(o.resumed.get(t.id)!)}` : ''}, final ${o.finalOutcome.get(t.id)}`;
  const list = (ts: TransferRecord[]): string => (ts.length === 0 ? 'none' : ts.map(show).join('; '));
  return `${completed} completed transfers touch it; resumed mid-saga by a node: ${list(resumed)}; others of exactly ${Math.abs(diff)}: ${list(exact)}`;
}

/** "in phase running, compensating ×12": the phases in order of first resume, repeats counted. */
function phases(list: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const p of list) counts.set(p, (counts.get(p) ?? 0) + 1);
  return `in phase ${[...counts].map(([p, n]) => (n === 1 ? p : `${p} ×${n}`)).join(', ')}`;
}

function cap(violations: Violation[]): Violation[] {
  const byKind = new Map<ViolationKind, Violation[]>();
  for (const v of violations) {
    const list = byKind.get(v.kind) ?? [];
    list.push(v);
    byKind.set(v.kind, list);
  }
  const out: Violation[] = [];
  for (const [kind, list] of byKind) {
    out.push(...list.slice(0, LIST_PER_KIND));
    if (list.length > LIST_PER_KIND) out.push({ kind, detail: `… and ${list.length - LIST_PER_KIND} more of this kind (${list.length} in all)` });
  }
  return out;
}

/** Violations per kind, including those not listed one by one. */
export function countByKind(violations: readonly Violation[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of violations) {
    const more = /^… and (\d+) more/.exec(v.detail);
    counts[v.kind] = (counts[v.kind] ?? 0) + (more === null ? 1 : Number(more[1]));
  }
  return counts;
}
