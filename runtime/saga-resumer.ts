/**
 * Finds sagas a dead (or stuck) node left unfinished and calls their actor
 * again, on the node that owns it now. A saga's journal entry (see
 * actors/saga.ts) names the actor and method to call with its input; the
 * method is idempotent, so a resume that races a saga still running only
 * queues behind it and gets the same outcome.
 */
import { SAGA_JOURNAL, type SagaJournalEntry } from '../actors/index.js';
import type { GridMap } from '../grid/index.js';
import type { Logger } from './log.js';
import type { CallRequest } from './router.js';
import type { ReplySink } from './envelope.js';

export interface SagaResumerOptions {
  readonly journal: (name: string) => GridMap;
  readonly isLocal: (type: string, key: string) => boolean;
  readonly call: (req: CallRequest, sink: ReplySink, id: number) => void;
  readonly log: Logger;
  /** How often to look, ms. */
  readonly intervalMs: number;
  /** An entry untouched for this long belongs to a saga nobody is running. */
  readonly staleMs: number;
}

export class SagaResumer {
  private readonly timer: NodeJS.Timeout;
  private scanning = false;
  /** Sagas resumed since start, for tests and logs. */
  resumed = 0;

  constructor(private readonly o: SagaResumerOptions) {
    this.timer = setInterval(() => void this.scan(), o.intervalMs);
    this.timer.unref();
  }

  async scan(): Promise<void> {
    if (this.scanning) return;
    this.scanning = true;
    try {
      const journal = this.o.journal(SAGA_JOURNAL);
      const now = Date.now();
      for (const id of await journal.keys()) {
        const entry = (await journal.get(id)) as SagaJournalEntry | undefined;
        if (entry === undefined || now - entry.updatedAt < this.o.staleMs) continue;
        // Only the owner resumes, so N nodes do not pile N calls on one saga.
        if (!this.o.isLocal(entry.type, entry.key)) continue;
        this.resumed++;
        this.o.log.log('info', 'saga_resume', { saga: id, phase: entry.phase, actor: entry.type, key: entry.key });
        this.o.call({ type: entry.type, key: entry.key, method: entry.method, args: [entry.input], timeoutMs: 30_000 }, {
          deliver: (_id, result) => {
            if (result[0] === 0) this.o.log.log('warn', 'saga_resume_failed', { saga: id, code: result[1].code, message: result[1].message });
          },
        }, 0);
      }
    } catch (err) {
      // The grid may be down; the next scan tries again.
      this.o.log.log('debug', 'saga_scan_failed', { error: (err as Error).message });
    } finally {
      this.scanning = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
