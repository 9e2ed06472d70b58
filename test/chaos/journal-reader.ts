/**
 * A read-only window on the saga journal (consistent grid map `troupe.sagas`) for the
 * chaos run's checks: the runtime has no actor for it, and the checks must
 * see entries a dead node left behind. Only the chaos run's nodes load this
 * module (`--actors`); it never writes, so its turns commit nothing.
 */
import { Actor, sagaJournal, type SagaJournalEntry } from '../../actors/index.js';

/** One journal entry as the checks report it. */
export interface JournalEntryView {
  readonly id: string;
  readonly phase: string;
  readonly outcome: string | null;
  /** ms since the entry was last written, by the reading node's clock. */
  readonly ageMs: number;
}

export class SagaJournalReader extends Actor<Record<string, never>> {
  static override expose = ['entries'] as const;
  state: Record<string, never> = {};

  /** Every entry still in the journal (an entry deleted between keys() and get() is skipped). */
  async entries(): Promise<JournalEntryView[]> {
    const journal = sagaJournal(this.grid);
    const now = Date.now();
    const out: JournalEntryView[] = [];
    for (const id of await journal.keys()) {
      const entry = (await journal.get(id)) as SagaJournalEntry | undefined;
      if (entry === undefined) continue;
      out.push({ id, phase: entry.phase, outcome: entry.outcome ?? null, ageMs: now - entry.updatedAt });
    }
    return out;
  }
}
