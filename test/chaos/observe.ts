/**
 * After the chaos: let the resumers finish what the dead nodes left, then
 * read everything the checks need. Order matters:
 * 1. settle: no client drives anything; only the nodes' saga resumers work,
 *    so an entry still in the journal at the end is one the runtime failed
 *    to finish on its own;
 * 2. statuses as the resumers left them;
 * 3. re-drive: `start` again with the same input for every transfer, as a
 *    client that saw an error would (idempotent per transfer id), to learn
 *    each final outcome;
 * 4. statuses again, the journal again, and every balance.
 */
import type { TroupeClient } from '../../client/index.js';
import { callWithRetries, mapLimit } from './calls.js';
import type { Observed } from './checks.js';
import type { JournalEntryView } from './journal-reader.js';
import type { TransferRecord } from './load.js';

export interface ObserveOptions {
  readonly client: TroupeClient;
  readonly accounts: readonly string[];
  readonly transfers: readonly TransferRecord[];
  /** Longest wait for the journal to empty in the settle phase, ms. */
  readonly settleTimeoutMs: number;
  readonly progress: (message: string) => void;
}

/** What the client reads back; the resumes come from the node logs (run.ts). */
export interface ObservedRun extends Omit<Observed, 'resumed'> {
  /** How long the journal took to empty in the settle phase (or the timeout). */
  readonly settleMs: number;
  /** Journal size when the settle phase began. */
  readonly journalAtSettleStart: number;
}

const PARALLEL = 32;
const ATTEMPTS = 6;
const CALL_TIMEOUT_MS = 15_000;
/** The read-only journal actor; one key is enough. */
const READER = ['SagaJournalReader', 'chaos'] as const;

async function readJournal(client: TroupeClient): Promise<JournalEntryView[]> {
  const r = await callWithRetries<JournalEntryView[]>(client, READER[0], READER[1], 'entries', [], { attempts: ATTEMPTS, timeoutMs: CALL_TIMEOUT_MS });
  if (!r.ok) throw new Error(`cannot read the saga journal: ${r.code} ${r.message}`);
  return r.value;
}

/** Polls the journal until it is empty or `timeoutMs` passed; returns what is left and how long it took. */
async function journalDrained(client: TroupeClient, timeoutMs: number): Promise<{ left: JournalEntryView[]; ms: number; first: number }> {
  const start = Date.now();
  let left = await readJournal(client);
  const first = left.length;
  while (left.length > 0 && Date.now() - start < timeoutMs) {
    await new Promise((r) => setTimeout(r, 500));
    left = await readJournal(client);
  }
  return { left, ms: Date.now() - start, first };
}

async function statuses(client: TroupeClient, transfers: readonly TransferRecord[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await mapLimit(transfers, PARALLEL, async (t) => {
    const r = await callWithRetries<{ state: string }>(client, 'Transfer', t.id, 'status', [], { attempts: ATTEMPTS, timeoutMs: CALL_TIMEOUT_MS });
    out.set(t.id, r.ok ? r.value.state : `error:${r.code}`);
  });
  return out;
}

export async function observe(o: ObserveOptions): Promise<ObservedRun> {
  const { client, transfers, progress } = o;
  progress(`settle: waiting up to ${o.settleTimeoutMs} ms for the saga resumers to empty the journal`);
  const settle = await journalDrained(client, o.settleTimeoutMs);
  progress(`settle: ${settle.first} journal entries at the start, ${settle.left.length} left after ${settle.ms} ms`);

  progress(`reading the status of ${transfers.length} transfers`);
  const statusAfterSettle = await statuses(client, transfers);

  progress(`re-driving ${transfers.length} transfers (start again, same input)`);
  const finalOutcome = new Map<string, string>();
  await mapLimit(transfers, PARALLEL, async (t) => {
    const r = await callWithRetries<string>(client, 'Transfer', t.id, 'start', [{ from: t.from, to: t.to, amount: t.amount }], { attempts: ATTEMPTS, timeoutMs: CALL_TIMEOUT_MS });
    finalOutcome.set(t.id, r.ok ? r.value : `error:${r.code}`);
  });

  const finalStatus = await statuses(client, transfers);
  // `start` forgets a finished saga's entry through a tell after its turn: give those a moment.
  const after = await journalDrained(client, 10_000);

  progress(`reading ${o.accounts.length} balances`);
  const balances = new Map<string, number | null>();
  await mapLimit(o.accounts, PARALLEL, async (a) => {
    const r = await callWithRetries<number>(client, 'Account', a, 'balance', [], { attempts: ATTEMPTS, timeoutMs: CALL_TIMEOUT_MS });
    balances.set(a, r.ok ? r.value : null);
  });

  return {
    journalAfterSettle: settle.left,
    journalAtSettleStart: settle.first,
    settleMs: settle.ms,
    statusAfterSettle,
    finalOutcome,
    finalStatus,
    journalAfterRecheck: after.left,
    balances,
  };
}
