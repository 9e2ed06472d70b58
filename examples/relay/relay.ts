import { Actor } from '../../actors/index.js';
import { Counter } from '../counter/counter.js';

/**
 * Passes amounts on to counters: `forward` with a tell (committed with this
 * turn, delivered after it, applied once), `forwardAwait` with a call whose
 * key comes from this turn (a turn run again never adds twice).
 */
export class Relay extends Actor<Record<string, never>> {
  static override expose = ['forward', 'forwardAwait'] as const;
  state = {};

  forward(counterKey: string, amount: number): boolean {
    if (typeof counterKey !== 'string' || typeof amount !== 'number' || !Number.isFinite(amount)) throw new Error('forward(counterKey, amount) needs a key and a finite number');
    this.tell(Counter, counterKey).add(amount);
    return true;
  }

  async forwardAwait(counterKey: string, amount: number): Promise<number> {
    if (typeof counterKey !== 'string' || typeof amount !== 'number' || !Number.isFinite(amount)) throw new Error('forwardAwait(counterKey, amount) needs a key and a finite number');
    return await this.ref(Counter, counterKey).add(amount);
  }
}
