import { Actor } from '../../actors/index.js';

/** A counter per key: `add(n)` returns the new total, `get()` reads it. */
export class Counter extends Actor<{ total: number }> {
  static override expose = ['add', 'get'] as const;
  state = { total: 0 };

  add(n: number): number {
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error('add(n) needs a finite number');
    this.state.total += n;
    return this.state.total;
  }

  get(): number {
    return this.state.total;
  }
}
