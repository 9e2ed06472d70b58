/**
 * When `troupe cluster autoscale` adds or drains a node: a pure function of
 * the recent lag samples, so the rule can be tested without a cluster.
 *
 * The target is per node, as the HPA in deploy/kubernetes reads it
 * (AverageValue): N nodes may carry N x target records of lag.
 * - Add one node when lag is past what the nodes may carry AND it would not
 *   be back under that within the horizon at the rate it is falling now
 *   (a burst the nodes are already eating fast enough needs no new node,
 *   which would cost a rebalance and a start-up before it reads a record).
 * - Drain one node when lag has stayed at or below half of what one node
 *   fewer may carry for the last DOWN_SAMPLES samples: the margin and the
 *   wait keep a steady stream from making the loop add and drain in turn.
 * - After either, wait out the cooldown: a new node needs seconds to start
 *   and the group a rebalance before the lag shows what it changed.
 */
export interface LagSample {
  /** ms since the loop started. */
  readonly t: number;
  readonly lag: number;
}

export interface ScalePolicy {
  readonly lagTarget: number;
  readonly minNodes: number;
  readonly maxNodes: number;
  readonly cooldownMs: number;
  readonly horizonS: number;
  /** The window the lag's rate is measured over. */
  readonly rateWindowMs: number;
}

export interface ScaleState {
  /** Oldest first; the last one is the sample being decided on. */
  readonly samples: readonly LagSample[];
  readonly nodes: number;
  /** ms since start of the last add or drain, -Infinity when none. */
  readonly lastActionAt: number;
  /** A node is still starting or draining. */
  readonly busy: boolean;
}

export type ScaleAction = 'add' | 'drain' | 'hold';

export interface ScaleDecision {
  readonly action: ScaleAction;
  /** Records per second, negative while lag falls; 0 until two samples span the window. */
  readonly ratePerS: number;
  readonly why: string;
}

export const DOWN_SAMPLES = 3;

/** Lag change per second over the samples within `windowMs` of the newest. */
export function lagRate(samples: readonly LagSample[], windowMs: number): number {
  const last = samples.at(-1);
  if (last === undefined) return 0;
  const first = samples.find((s) => s.t >= last.t - windowMs) ?? last;
  return last.t === first.t ? 0 : ((last.lag - first.lag) * 1000) / (last.t - first.t);
}

export function decide(s: ScaleState, p: ScalePolicy): ScaleDecision {
  const last = s.samples.at(-1);
  const ratePerS = lagRate(s.samples, p.rateWindowMs);
  const hold = (why: string): ScaleDecision => ({ action: 'hold', ratePerS, why });
  if (last === undefined) return hold('no sample yet');
  if (s.busy) return hold('a node is starting or draining');
  if (last.t - s.lastActionAt < p.cooldownMs) return hold('cooldown after the last change');
  const carried = p.lagTarget * s.nodes;
  if (last.lag > carried) {
    if (s.nodes >= p.maxNodes) return hold(`lag past ${carried} but already at --max-nodes ${p.maxNodes}`);
    const etaS = ratePerS < 0 ? (last.lag - carried) / -ratePerS : Infinity;
    if (etaS <= p.horizonS) return hold(`lag past ${carried} but falling: under it in ${etaS.toFixed(0)} s`);
    return { action: 'add', ratePerS, why: ratePerS >= 0 ? `lag ${last.lag} > ${carried} and growing` : `lag ${last.lag} > ${carried}, under it only in ${etaS.toFixed(0)} s` };
  }
  if (s.nodes > p.minNodes) {
    const low = (p.lagTarget * (s.nodes - 1)) / 2;
    const recent = s.samples.slice(-DOWN_SAMPLES);
    if (recent.length === DOWN_SAMPLES && recent.every((x) => x.lag <= low)) {
      return { action: 'drain', ratePerS, why: `lag ≤ ${low} for ${DOWN_SAMPLES} samples` };
    }
  }
  return hold(last.lag > 0 ? 'lag within target' : 'idle');
}
