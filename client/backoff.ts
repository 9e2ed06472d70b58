import type { Backoff } from './options.js';

/**
 * Delay before attempt `attempt` (0-based): exponential, capped, with "equal
 * jitter" (half fixed, half random). The fixed half keeps a crowd of clients
 * from hammering a node that just came back; the random half spreads them out.
 */
export function backoffDelay(policy: Backoff, attempt: number, random: () => number = Math.random): number {
  // Cap the exponent: 2 ** 1000 is Infinity, and min() with it is fine, but 2 ** 31 already exceeds any sane maxMs.
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return exp / 2 + random() * (exp / 2);
}
