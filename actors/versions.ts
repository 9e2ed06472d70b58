/**
 * State versions. A class says which shape its `state` has with
 * `static version = N` (1 when absent) and how to bring an older stored
 * state up to it with `static migrate(state, fromVersion)`. Every record
 * carries the version that wrote it: an older one is migrated when it is
 * loaded, and a newer one (written by newer code during a rolling update)
 * is refused with E_VERSION rather than run and overwritten by old code.
 *
 * There is no merge with the class's initial state: a stored state replaces
 * it wholesale, so a field added in version 2 is undefined on a version-1
 * record unless `migrate` sets it. That is on purpose: only the class knows
 * whether a missing field means "zero", "empty" or something computed from
 * the old fields.
 */
import type { ActorClass } from './types.js';
import { actorTypeName } from './actor.js';

/** What a versioned class adds to ActorClass. */
export interface VersionedClass {
  readonly version?: number;
  migrate?(state: unknown, fromVersion: number): unknown;
}

/**
 * The state version of a class, checked: a positive integer, with a
 * `migrate` whenever it is above 1. Throws a TypeError naming the class, so a
 * bad actor module stops the node at start-up.
 */
export function stateVersion(type: ActorClass): number {
  const cls = type as ActorClass & VersionedClass;
  const name = actorTypeName(type);
  const version = cls.version ?? 1;
  if (!Number.isSafeInteger(version) || version < 1) throw new TypeError(`actor ${name}: static version must be a positive integer, got ${String(version)}`);
  if (cls.migrate !== undefined && typeof cls.migrate !== 'function') throw new TypeError(`actor ${name}: static migrate must be a function (state, fromVersion) => state`);
  if (version > 1 && cls.migrate === undefined) {
    throw new TypeError(`actor ${name}: static version ${version} needs a static migrate(state, fromVersion) that turns older states into version ${version}'s`);
  }
  return version;
}

/** A stored state of version `from` in the shape of the class's current version. */
export function migrateState(type: ActorClass, state: unknown, from: number): unknown {
  const cls = type as ActorClass & VersionedClass;
  let migrated: unknown;
  try {
    migrated = cls.migrate!.call(type, state, from);
  } catch (err) {
    throw new Error(`actor ${actorTypeName(type)}: migrate from version ${from} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // A migrate that forgot its return would otherwise hand the turn an undefined state, and commit it.
  if (migrated === undefined) throw new Error(`actor ${actorTypeName(type)}: migrate from version ${from} returned undefined: return the migrated state`);
  return migrated;
}
