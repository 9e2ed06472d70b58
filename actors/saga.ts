/**
 * Sagas: an operation across several actors, each step with a compensation,
 * that finishes or fully compensates even if the node running it dies.
 *
 * How it stays correct:
 * - Every step and compensation is called with a deterministic idempotency
 *   key (`<saga id>:<step>` and `<saga id>:<step>:undo`), so running the saga
 *   again from the start never applies a step twice: a step that already
 *   committed answers with its stored result.
 * - A journal entry in the grid (map `troupe.sagas`) is written before the
 *   first step and whenever the saga turns to compensating, and deleted when
 *   it ends. The runtime's saga resumer finds journal entries left behind by a
 *   dead node and calls the saga actor's resume method again (`start` with
 *   the same input by default), on whichever node owns it now.
 * - Once the journal says "compensating", a resumed saga only compensates:
 *   a forward step is never retried after the decision to undo.
 * - Progress is journaled after every step and every compensation, so a
 *   resumed saga never re-runs a step it knows is done: it relies on the
 *   callee's idempotency memory only for the step that was under way when
 *   the node died (a callee keeps its keys at least --idem-min-age).
 * - A compensation must be something the callee cannot refuse (a refund, not
 *   a deposit that an account may reject): if one fails for good, the saga
 *   stays "compensating" with `lastError`, and is retried, rather than end
 *   with money gone.
 * - One run at a time, cluster-wide: a saga runs holding the lock
 *   `troupe.saga:<id>` (a lease: a dead runner never blocks its resumption
 *   for longer), and the journal is a consistent map (no near cache) written
 *   with the lock's fencing token. A run that outlived its lease (a paused
 *   node, say) finds its journal writes refused with E_FENCED once another
 *   run has taken over, and stops.
 *
 * Transient failures of a step (E_TIMEOUT, E_UNAVAILABLE, E_OVERLOADED) are
 * retried with the same key; a step that fails for a business reason
 * (E_ACTOR_FAILED and anything else) turns the saga to compensation.
 */
import type { ActorGrid, ActorGridMap } from './context.js';

export const SAGA_JOURNAL = 'troupe.sagas';

export interface SagaStep<I> {
  readonly name: string;
  /** The forward action; `idem` must be passed on to the actor called. */
  run(input: I, idem: string): Promise<unknown>;
  /** Undoes `run`; called only for steps whose `run` succeeded. */
  compensate?(input: I, idem: string): Promise<unknown>;
}

export type SagaOutcome = 'completed' | 'failed';

/** What the journal holds until the saga actor has committed the outcome. */
export interface SagaJournalEntry<I = unknown> {
  /** Actor type, key and method the resumer calls, with `[input]` as arguments. */
  readonly type: string;
  readonly key: string;
  readonly method: string;
  readonly input: I;
  readonly phase: 'running' | 'compensating' | 'done';
  /** While running: the next step to run (earlier ones are done). */
  readonly next?: number;
  /** While compensating: the last step still to undo (-1: none left). */
  readonly undoFrom?: number;
  /** Why the last attempt stopped, when it did. */
  readonly lastError?: string;
  readonly outcome?: SagaOutcome;
  readonly updatedAt: number;
}

export interface SagaRun<I> {
  /** Unique id of this saga instance (e.g. the transfer id); the journal key and idem prefix. */
  readonly id: string;
  readonly input: I;
  readonly steps: readonly SagaStep<I>[];
  /** The saga actor's `this.grid`: the journal and the saga's lock live there. */
  readonly grid: ActorGrid;
  /** Where the resumer calls back: the saga actor's type, key and (idempotent) method. */
  readonly resume: { readonly type: string; readonly key: string; readonly method: string };
  /** Attempts per step for transient failures. Default 5. */
  readonly attempts?: number;
  /** How long one run may hold the saga's lock, ms. Default 20 s: keep it above the calling turn's deadline. */
  readonly leaseMs?: number;
  /** How long a run waits for another run of the same saga to finish, ms, before E_TIMEOUT. Default 5 s. */
  readonly waitMs?: number;
}

/** The saga journal: a consistent map (read from the grid, never a cache). */
export function sagaJournal(grid: ActorGrid): ActorGridMap {
  return grid.map(SAGA_JOURNAL, { consistent: true });
}

// E_VERSION: a step's actor is on a node whose code is older than its record, for the length of a rolling update.
const TRANSIENT = new Set(['E_TIMEOUT', 'E_UNAVAILABLE', 'E_OVERLOADED', 'E_VERSION']);

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

async function withRetries<T>(attempts: number, fn: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !TRANSIENT.has(codeOf(err) ?? '')) throw err;
      await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** i) * (0.5 + Math.random())));
    }
  }
}

/**
 * Runs (or resumes) a saga to its end and returns the outcome, which stays
 * in the journal (phase "done") until `forgetSaga` after the saga actor has
 * committed it: a crash in between must not let a re-run take another path.
 * Throws only when a step or compensation keeps failing: the journal entry
 * stays, and the resumer tries again later.
 */
export async function runSaga<I>(saga: SagaRun<I>): Promise<SagaOutcome> {
  return saga.grid.withLock(`troupe.saga:${saga.id}`, saga.leaseMs ?? 20_000, (token) => runLocked(saga, token), { waitMs: saga.waitMs ?? 5_000 });
}

async function runLocked<I>(saga: SagaRun<I>, token: number): Promise<SagaOutcome> {
  const attempts = saga.attempts ?? 5;
  const journal = sagaJournal(saga.grid);
  const write = (fields: Pick<SagaJournalEntry<I>, 'phase' | 'next' | 'undoFrom' | 'outcome' | 'lastError'>): Promise<void> =>
    journal.set(saga.id, { ...saga.resume, input: saga.input, updatedAt: Date.now(), ...fields }, { fence: token });
  const existing = (await journal.get(saga.id)) as SagaJournalEntry<I> | undefined;
  if (existing?.phase === 'done') return existing.outcome!;
  let undoFrom: number;
  if (existing?.phase === 'compensating') {
    undoFrom = existing.undoFrom ?? -1;
  } else {
    if (existing === undefined) await write({ phase: 'running', next: 0 });
    undoFrom = -2;
    // Steps recorded as done are not run again: their keys may have aged out of the callee's memory.
    for (let i = existing?.next ?? 0; i < saga.steps.length; i++) {
      const step = saga.steps[i]!;
      try {
        await withRetries(attempts, () => step.run(saga.input, `${saga.id}:${step.name}`));
      } catch (err) {
        if (TRANSIENT.has(codeOf(err) ?? '')) {
          await write({ phase: 'running', next: i, lastError: messageOf(err) }).catch(() => {});
          throw err;
        }
        // The decision to undo is durable before any compensation runs.
        undoFrom = i - 1;
        await write({ phase: 'compensating', undoFrom });
        break;
      }
      await write({ phase: 'running', next: i + 1 });
    }
    if (undoFrom === -2) {
      await write({ phase: 'done', outcome: 'completed' });
      return 'completed';
    }
  }
  for (let i = undoFrom; i >= 0; i--) {
    const step = saga.steps[i]!;
    if (step.compensate !== undefined) {
      try {
        await withRetries(attempts, () => step.compensate!(saga.input, `${saga.id}:${step.name}:undo`));
      } catch (err) {
        // A compensation must not be refused for good; if it is, the saga waits here (stale, so the
        // resumer tries again later) and says why, rather than pretend it ended.
        await write({ phase: 'compensating', undoFrom: i, lastError: messageOf(err) }).catch(() => {});
        throw err;
      }
    }
    await write({ phase: 'compensating', undoFrom: i - 1 });
  }
  await write({ phase: 'done', outcome: 'failed' });
  return 'failed';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Drops a saga's journal entry; call it once the saga actor's own state holds the outcome. */
export async function forgetSaga(grid: ActorGrid, id: string): Promise<void> {
  await sagaJournal(grid).delete(id);
}
