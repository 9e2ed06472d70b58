/** Troupe's programming model: what application code imports. */
export { Actor, actorTypeName, isActorClass, exposedMethods, isReservedName } from './actor.js';
export { stateVersion, migrateState } from './versions.js';
export type { VersionedClass } from './versions.js';
export type { ActorClass, ExposedKeys, Ref, TellRef } from './types.js';
export type { ActorContext, ActorGrid, ActorGridMap, ActorGridCounter, CallOptions, ReminderInfo, ReminderSchedule } from './context.js';
/** @internal for the runtime that executes turns. */
export { CONTEXT as ACTOR_CONTEXT } from './actor.js';
export { runSaga, forgetSaga, sagaJournal, SAGA_JOURNAL } from './saga.js';
export type { SagaStep, SagaRun, SagaOutcome, SagaJournalEntry } from './saga.js';
