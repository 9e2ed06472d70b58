import type { ActorContext, ActorGrid, CallOptions, ReminderInfo, ReminderSchedule } from './context.js';
import type { ActorClass, Ref, TellRef } from './types.js';

/** Symbol.for so that two copies of this module (a bundled app, a linked checkout) still agree. */
export const ACTOR_BRAND: unique symbol = Symbol.for('troupe.actor') as never;
/** Where the runtime attaches the turn's context; not part of the public API. */
export const CONTEXT: unique symbol = Symbol.for('troupe.actor.context') as never;

/**
 * Base class of every actor. Subclasses keep all their data in `state`, which
 * must be msgpack-serializable (plain objects, arrays, strings, numbers,
 * booleans, null, Uint8Array, Date, Map, Set); only methods listed in the static
 * `expose` array can be called from outside.
 *
 * ```ts
 * export class Counter extends Actor<{ total: number }> {
 *   static expose = ['add', 'get'] as const;
 *   state = { total: 0 };
 *   add(n: number) { this.state.total += n; return this.state.total; }
 *   get() { return this.state.total; }
 * }
 * ```
 *
 * Rules the runtime enforces:
 * - One message at a time per actor identity (type + key), in arrival order
 *   per sender. A handler may be async; the next message waits for it.
 * - The state after a turn is committed to the grid before the caller gets the
 *   reply. A handler that throws leaves the state as it was before that turn.
 * - An instance lives for one batch of turns only: never keep data in other
 *   fields, and keep constructors free of side effects.
 * - Calls to other actors (`this.ref(...)`) carry a deadline. A call cycle
 *   (A awaits B which awaits A) cannot complete, because A is busy, so it ends
 *   with E_TIMEOUT instead of hanging. Use `this.tell(...)` for one-way sends:
 *   they are committed with this turn's state and delivered after it, once.
 * - A turn has one identity however often it runs (after a version conflict,
 *   a crashed worker, a failover): the calls it makes carry keys derived from
 *   it, so a turn run again never applies its calls twice.
 */
export abstract class Actor<S = unknown> {
  static readonly [ACTOR_BRAND] = true;
  /** Names of the methods clients and other actors may call. */
  static readonly expose: readonly string[] = [];
  /** Actor type name on the wire; defaults to the class name. */
  static readonly type?: string;
  /**
   * The version of this class's state shape (1 when absent). Records carry
   * it; bump it when the shape changes and give `migrate`. A node meeting a
   * record newer than its code refuses the actor with E_VERSION.
   */
  static readonly version?: number;
  /**
   * Turns a state stored by an older version (`fromVersion`) into this
   * version's shape; called when such a record is loaded, before the turn.
   * Stored state replaces the initial `state` wholesale: a field added in a
   * new version is undefined on old records unless `migrate` sets it.
   */
  static migrate?(state: unknown, fromVersion: number): unknown;

  /** The actor's data. Initialize it in the subclass as a field: `state = { ... }`. */
  state!: S;

  /** @internal set by the runtime before each batch of turns. */
  [CONTEXT]?: ActorContext;

  private ctx(): ActorContext {
    const ctx = this[CONTEXT];
    if (ctx === undefined) throw new Error('this actor is not running inside a Troupe turn');
    return ctx;
  }

  /** This actor's key (its identity within its type). */
  get key(): string {
    return this.ctx().key;
  }

  /** Identity of the authenticated caller (the JWT `sub`), when there is one. */
  get caller(): string | undefined {
    return this.ctx().caller;
  }

  /** Shared hot data in the grid: maps, counters, locks. */
  get grid(): ActorGrid {
    return this.ctx().grid;
  }

  /** A typed proxy to call another actor (or this one's siblings) and await the reply. */
  ref<C extends ActorClass>(type: C, key: string, options?: CallOptions): Ref<C> {
    const ctx = this.ctx();
    const name = actorTypeName(type);
    return new Proxy({} as Ref<C>, {
      get: (_t, method) =>
        typeof method === 'string' ? (...args: unknown[]) => ctx.call(name, key, method, args, options) : undefined,
    });
  }

  /**
   * A typed proxy for one-way messages. A tell is committed in the same grid
   * write as this turn's state (in the actor's outbox) and delivered after
   * it, again until its target acknowledges it, with a key the target
   * remembers: each tell takes effect exactly once. A turn that throws sends
   * none of its tells.
   */
  tell<C extends ActorClass>(type: C, key: string): TellRef<C> {
    const ctx = this.ctx();
    const name = actorTypeName(type);
    return new Proxy({} as TellRef<C>, {
      get: (_t, method) => (typeof method === 'string' ? (...args: unknown[]) => ctx.tell(name, key, method, args) : undefined),
    });
  }

  /**
   * Publishes an event on a topic; it leaves once this turn has committed.
   * Events are numbered per actor and topic (in the record), so a subscriber
   * can see when it missed some: delivery is at most once.
   */
  publish(topic: string, data: unknown): void {
    this.ctx().publish(topic, data);
  }

  /**
   * Schedules a durable reminder: `method(...args)` is called on this actor
   * when it is due, on whichever node owns the actor then, as a turn of its
   * own. Scheduling a name again replaces it. The reminder is committed with
   * this turn (a turn that throws schedules nothing) and fires once per due
   * time, even across failovers; a recurring one skips the firings it missed
   * while no node could run it. `method` may be any method of the class,
   * exposed or not.
   */
  remind(name: string, schedule: ReminderSchedule, method: string, ...args: unknown[]): void {
    this.ctx().remind(name, schedule, method, args);
  }

  /** Cancels a reminder; returns whether one of that name was pending. */
  cancelReminder(name: string): boolean {
    return this.ctx().cancelReminder(name);
  }

  /** This actor's pending reminders, including changes made earlier in this turn. */
  reminders(): ReminderInfo[] {
    return this.ctx().reminders();
  }
}

/** The wire name of an actor class. */
export function actorTypeName(type: ActorClass | string): string {
  if (typeof type === 'string') return type;
  return type.type ?? type.name;
}

export function isActorClass(value: unknown): value is ActorClass {
  return typeof value === 'function' && (value as unknown as Record<symbol, unknown>)[ACTOR_BRAND] === true;
}

// Names that can never be handlers, whatever `expose` says.
const FORBIDDEN = new Set(['constructor', '__proto__', 'prototype', 'state', 'key', 'caller', 'grid', 'ref', 'tell', 'publish', 'ctx',
  'remind', 'cancelReminder', 'reminders',
  'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString',
  '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);

/** Names the base class and Object own: never a handler, never a reminder's method. */
export function isReservedName(name: string): boolean {
  return FORBIDDEN.has(name);
}

/**
 * Checks a class's `expose` list and returns the callable method names.
 * Throws a TypeError naming the problem, so a bad actor module stops the node at start-up.
 */
export function exposedMethods(type: ActorClass): ReadonlySet<string> {
  const name = actorTypeName(type);
  if (!Array.isArray(type.expose)) throw new TypeError(`actor ${name}: static expose must be an array of method names`);
  const out = new Set<string>();
  for (const method of type.expose) {
    if (typeof method !== 'string' || method.length === 0) throw new TypeError(`actor ${name}: expose holds a non-string entry`);
    if (FORBIDDEN.has(method) || method.startsWith('_') || method.startsWith('#')) {
      throw new TypeError(`actor ${name}: '${method}' cannot be exposed (reserved, private or underscored)`);
    }
    // Look the method up on the class's own prototype chain, stopping at Actor, so inherited Object members never count.
    let proto: object | null = type.prototype;
    let found = false;
    while (proto !== null && proto !== Actor.prototype && proto !== Object.prototype) {
      const desc = Object.getOwnPropertyDescriptor(proto, method);
      if (desc !== undefined) {
        found = typeof desc.value === 'function';
        break;
      }
      proto = Object.getPrototypeOf(proto);
    }
    if (!found) throw new TypeError(`actor ${name}: exposed '${method}' is not a method of the class`);
    out.add(method);
  }
  return out;
}
