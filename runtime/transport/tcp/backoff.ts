/**
 * Delay before reconnect attempt `attempt` (0-based): doubles from `min` up
 * to `max`, then "equal jitter" picks uniformly in its upper half. The jitter
 * keeps nodes that lost a peer at the same moment from redialling in
 * lockstep; the fixed half keeps a floor so a dead peer is not hammered.
 */
export function backoffDelay(attempt: number, min: number, max: number, random: () => number = Math.random): number {
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
