import { Actor } from '../../actors/index.js';

interface TickerState {
  /** Firings per reminder id. */
  fired: Record<string, number>;
  /** Recurring reminders: ticks left before they stop themselves. */
  left: Record<string, number>;
  /** One-shot reminders: when each was due, and how late its (first) firing came, ms. */
  due: Record<string, number>;
  late: Record<string, number>;
}

/**
 * Durable reminders, as a test and a user would drive them: `schedule` a
 * one-shot, `repeat` one that stops itself after `times` ticks, `cancel`;
 * `fired()` counts ticks per id, `pending()` lists what is still scheduled.
 */
export class Ticker extends Actor<TickerState> {
  static override expose = ['schedule', 'repeat', 'cancel', 'fired', 'pending', 'lateness'] as const;
  state: TickerState = { fired: {}, left: {}, due: {}, late: {} };

  schedule(id: string, afterMs: number): boolean {
    this.remind(id, { after: afterMs }, 'tick', id);
    // The due time the runtime stored, not a second Date.now() of our own: a
    // thread preempted between the two reads would make an on-time firing look early.
    this.state.due[id] = this.reminders().find((r) => r.name === id)!.due;
    return true;
  }

  repeat(id: string, everyMs: number, times: number): boolean {
    if (!Number.isInteger(times) || times < 1) throw new Error('repeat(id, everyMs, times) needs times ≥ 1');
    this.remind(id, { every: everyMs }, 'tick', id);
    this.state.left[id] = times;
    return true;
  }

  cancel(id: string): boolean {
    delete this.state.left[id];
    delete this.state.due[id];
    return this.cancelReminder(id);
  }

  /** Called by the reminders only (not exposed). */
  tick(id: string): void {
    this.state.fired[id] = (this.state.fired[id] ?? 0) + 1;
    const due = this.state.due[id];
    if (due !== undefined && this.state.late[id] === undefined) this.state.late[id] = Date.now() - due;
    const left = this.state.left[id];
    if (left !== undefined) {
      if (left <= 1) {
        delete this.state.left[id];
        this.cancelReminder(id);
      } else {
        this.state.left[id] = left - 1;
      }
    }
  }

  fired(): Record<string, number> {
    return this.state.fired;
  }

  pending(): string[] {
    return this.reminders().map((r) => r.name).sort();
  }

  /** How late each one-shot reminder fired, ms. */
  lateness(): Record<string, number> {
    return this.state.late;
  }
}
