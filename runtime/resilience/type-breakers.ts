import CircuitBreaker from 'opossum';
import type { BreakerState } from './guarded-grid.js';

/**
 * One circuit breaker per actor type, fed with the outcome of each group of
 * turns: a group counts as failed only when its worker died or was
 * terminated (a crash, a stuck handler), never for an error the handler
 * threw on purpose (E_ACTOR_FAILED is an answer, not an outage). While a
 * type's breaker is open its calls fail at once with E_UNAVAILABLE, so a
 * type that keeps killing workers stops costing threads and callers' time.
 *
 * Successes are coalesced: all the groups of one type that finish in one
 * callback (a commit batch) count as one success. A fire costs a promise and
 * a few events (~6% of a busy main thread when every group fired one), and
 * the breaker only needs successes to tell "some work gets through" from
 * "every group kills its worker", which one per batch still tells.
 */
export class TypeBreakers {
  private readonly breakers = new Map<string, CircuitBreaker<[boolean], void>>();
  /** Types with a success to record at the end of this callback. */
  private readonly succeeded = new Set<string>();
  private flushQueued = false;

  constructor(private readonly onState: (type: string, state: BreakerState) => void = () => {}) {}

  private breaker(type: string): CircuitBreaker<[boolean], void> {
    let b = this.breakers.get(type);
    if (b === undefined) {
      b = new CircuitBreaker((ok: boolean) => (ok ? Promise.resolve() : Promise.reject(new Error('worker failed'))), {
        name: `actor:${type}`,
        timeout: false,
        errorThresholdPercentage: 50,
        volumeThreshold: 4,
        resetTimeout: 5000,
        rollingCountTimeout: 10_000,
        rollingPercentilesEnabled: false,
      });
      b.on('open', () => this.onState(type, 'open'));
      b.on('halfOpen', () => this.onState(type, 'half-open'));
      b.on('close', () => this.onState(type, 'closed'));
      this.breakers.set(type, b);
    }
    return b;
  }

  /** Whether calls to this type are refused right now. */
  isOpen(type: string): boolean {
    return this.breakers.get(type)?.opened === true;
  }

  record(type: string, ok: boolean): void {
    if (!ok) {
      this.breaker(type).fire(false).catch(() => {});
      return;
    }
    this.succeeded.add(type);
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(this.recordSuccesses);
  }

  /** Bound once: a closure per commit batch was garbage on every one. */
  private readonly recordSuccesses = (): void => {
    this.flushQueued = false;
    for (const type of this.succeeded) this.breaker(type).fire(true).catch(() => {});
    this.succeeded.clear();
  };

  states(): { name: string; state: BreakerState }[] {
    return [...this.breakers].map(([type, b]) => ({ name: `actor:${type}`, state: b.opened ? 'open' : b.halfOpen ? 'half-open' : 'closed' }));
  }

  close(): void {
    for (const b of this.breakers.values()) b.shutdown();
  }
}
