/**
 * The owner's spans of a call: `turn`, from the hand-off to the worker pool
 * to the group's result on the main thread, under the call's parent (the
 * sender's forward span, or the gateway's when the call came in here); and
 * `commit`, under the turn, with the times of the group commit that wrote the
 * turn's record. A group commit serves many turns: each traced turn gets a
 * commit span of its own with those same times.
 */
import type { WriteOutcome } from '../../grid/index.js';
import type { ErrorData } from '../../protocol/errors.js';
import type { Envelope } from '../envelope.js';
import type { TurnResult } from '../pool/protocol.js';
import type { CallTracer } from './call-tracer.js';

/** Starts the turn span of a traced message (ending the one of an earlier run after a conflict). */
export function startTurnSpan(tracer: CallTracer, env: Envelope): void {
  env.turnSpan?.end();
  // A call from another node is this node's server side of it; one from here is internal.
  env.turnSpan = tracer.start('turn', env.forwarded ? 'server' : 'internal', env.traceparent, env);
}

/** The context the worker gives the calls a traced turn makes: its turn span's, or the call's own with no tracer here. */
export function turnParent(env: Envelope): string {
  return env.turnSpan !== null ? env.turnSpan.traceparent : env.traceparent!;
}

/** The group's results came back: each traced turn's span ends, failed with its error if it threw. */
export function endTurnSpans(envs: readonly Envelope[], results: readonly TurnResult[]): void {
  for (let i = 0; i < envs.length; i++) {
    const span = envs[i]!.turnSpan;
    if (span === null) continue;
    const r = results[i];
    if (r !== undefined && r[0] === 0) span.fail(r[1].code, r[1].message);
    span.end();
  }
}

/** The group never finished (its worker died, it ran past its deadline). */
export function failTurnSpans(envs: readonly Envelope[], error: ErrorData): void {
  for (const env of envs) {
    if (env.turnSpan === null) continue;
    env.turnSpan.fail(error.code, error.message);
    env.turnSpan.end();
  }
}

/** One commit span per traced turn of each group written, with the group commit's start and end. */
export function commitSpans(tracer: CallTracer, runs: readonly { readonly envs: readonly Envelope[] }[], outcomes: readonly WriteOutcome[], startAt: number, endAt: number): void {
  for (let i = 0; i < runs.length; i++) {
    const outcome = outcomes[i];
    for (const env of runs[i]!.envs) {
      if (env.turnSpan === null) continue;
      const span = tracer.start('commit', 'internal', env.turnSpan.traceparent, env, startAt);
      if (outcome !== undefined && !outcome.ok) {
        if (outcome.conflict) span.fail('E_CONFLICT', 'the record was written elsewhere; the turn runs again');
        else span.fail(outcome.error.code, outcome.error.message);
      }
      span.end(endAt);
    }
  }
}
