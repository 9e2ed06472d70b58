/**
 * An actor's reminders as they sit in its record: checking a schedule,
 * replacing and cancelling by name, finding the due ones, and moving a fired
 * one on. Pure functions over arrays, run in the worker, so a turn's changes
 * are committed with its state or not at all.
 */
import type { ReminderInfo, ReminderSchedule } from '../../actors/index.js';
import type { Reminder } from '../record.js';

/** Reminders one actor may hold: each is rewritten with every write of its record. */
export const MAX_REMINDERS = 1000;
export const MAX_REMINDER_NAME = 256;
/** Shortest period of a recurring reminder: a shorter one is a busy loop through the grid. */
export const MIN_EVERY_MS = 10;
/** Reminders fired in one wake-up turn; the rest fire in the next one, at once. */
export const MAX_FIRED_PER_WAKE = 64;

/** Checks a schedule and returns its first due time and period. Throws a TypeError naming the problem. */
export function checkSchedule(name: unknown, schedule: ReminderSchedule | undefined, now: number): { due: number; every: number } {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_REMINDER_NAME) {
    throw new TypeError(`a reminder's name must be a string of 1 to ${MAX_REMINDER_NAME} characters`);
  }
  if (schedule === null || typeof schedule !== 'object') throw new TypeError(`reminder '${name}': the schedule must be an object { at?, after?, every? }`);
  const { at, after, every } = schedule;
  const finite = (v: unknown, what: string): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`reminder '${name}': ${what} must be a finite number ≥ 0`);
    return v;
  };
  const atMs = finite(at, 'at');
  const afterMs = finite(after, 'after');
  const everyMs = finite(every, 'every') ?? 0;
  if (atMs !== undefined && afterMs !== undefined) throw new TypeError(`reminder '${name}': give at or after, not both`);
  if (everyMs !== 0 && everyMs < MIN_EVERY_MS) throw new TypeError(`reminder '${name}': every must be at least ${MIN_EVERY_MS} ms`);
  if (atMs === undefined && afterMs === undefined && everyMs === 0) throw new TypeError(`reminder '${name}': give at, after or every`);
  const due = atMs ?? now + (afterMs ?? everyMs);
  // Rounded up: a fractional `at` must not fire before the instant asked for.
  return { due: Math.ceil(due), every: Math.round(everyMs) };
}

/** Returns a copy with `r` in place of any reminder of the same name. */
export function withReminder(table: readonly Reminder[], r: Reminder): Reminder[] {
  const out = table.filter((e) => e[0] !== r[0]);
  if (out.length >= MAX_REMINDERS) throw new RangeError(`an actor may hold at most ${MAX_REMINDERS} reminders`);
  out.push(r);
  return out;
}

export function withoutReminder(table: readonly Reminder[], name: string): Reminder[] {
  return table.filter((e) => e[0] !== name);
}

/** The reminders due at `now`, earliest first, at most MAX_FIRED_PER_WAKE. */
export function dueReminders(table: readonly Reminder[], now: number): Reminder[] {
  const due = table.filter((r) => r[1] <= now);
  due.sort((a, b) => a[1] - b[1]);
  return due.length > MAX_FIRED_PER_WAKE ? due.slice(0, MAX_FIRED_PER_WAKE) : due;
}

/**
 * After `fired` ran (or failed): a one-shot reminder goes, a recurring one
 * moves to its next due time after `now`, skipping firings it missed. A
 * reminder the turn itself replaced or cancelled (its due time changed, or
 * it is gone) is left as the turn left it.
 */
export function afterFiring(table: readonly Reminder[], fired: Reminder, now: number): Reminder[] {
  const i = table.findIndex((r) => r[0] === fired[0] && r[1] === fired[1]);
  if (i < 0) return table as Reminder[];
  const out = table.slice();
  const every = fired[2];
  if (every <= 0) out.splice(i, 1);
  else out[i] = [fired[0], fired[1] + every * (Math.floor((now - fired[1]) / every) + 1), every, fired[3], fired[4]];
  return out;
}

/** Earliest due time, or -1 when there is none. */
export function earliestDue(table: readonly Reminder[]): number {
  let min = -1;
  for (const r of table) if (min < 0 || r[1] < min) min = r[1];
  return min;
}

export function describe(table: readonly Reminder[]): ReminderInfo[] {
  return table.map(([name, due, every, method, args]) => (every > 0 ? { name, due, every, method, args } : { name, due, method, args }));
}
