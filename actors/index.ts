/** Troupe's programming model: what application code imports. */
export { Actor, actorTypeName, isActorClass, exposedMethods } from './actor.js';
export type { ActorClass, ExposedKeys, Ref, TellRef } from './types.js';
export type { ActorContext, ActorGrid, ActorGridMap, ActorGridCounter, CallOptions } from './context.js';
/** @internal for the runtime that executes turns. */
export { CONTEXT as ACTOR_CONTEXT } from './actor.js';
export { runSaga, forgetSaga, SAGA_JOURNAL } from './saga.js';
export type { SagaStep, SagaRun, SagaOutcome, SagaJournalEntry } from './saga.js';
