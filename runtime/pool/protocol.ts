/**
 * The only things the pool's host side (`turn-pool.ts`) and worker side
 * (`worker.ts`) share. Tasks and results travel as one msgpack buffer each:
 * one copy per batch instead of a structured clone per object.
 */
import type { ErrorData } from '../../protocol/errors.js';
import type { IdemRetention } from '../idem-keys.js';
import type { OutboxEntry } from '../record.js';

/**
 * One message for one actor: [method, args, idem key or null, caller id or
 * null, turn, ack?, traceparent?].
 * - `turn` numbers messages on this node, so that a turn without an idem key
 *   run again (after a conflict, a crashed worker) has the same identity and
 *   makes its calls with the same keys.
 * - `ack`, on calls forwarded by another node and on tells, is the lowest
 *   sequence number the sender may still send again: entries of that sender
 *   below it need not be kept (see idem-keys.ts); left out when there is none.
 * Method `WAKE` is the runtime's own: it fires the actor's due reminders (and
 * lets a group run that only removes acknowledged tells from the outbox).
 * - `traceparent`, on traced messages only (then `ack` is there too, -1 for
 *   none): the context the turn's calls and tells carry, its turn span's.
 */
export type TurnMessage = readonly [method: string, args: readonly unknown[], idem: string | null, caller: string | null, turn: number, ack?: number, traceparent?: string];

export const WAKE = '\u0000wake';

/**
 * The turns one actor runs in one task, in order. Trailing parts are left
 * out when they hold nothing (most groups: they cross the thread boundary
 * by the thousand).
 * - `data`: the record as read from the grid (null: new actor).
 * - `acked`: outbox sequence numbers its targets acknowledged, to remove.
 * - `fresh`: the record was just loaded: report its whole outbox, not only new tells.
 */
export type TaskGroup = readonly [
  group: number, type: string, key: string, data: Uint8Array | null, messages: readonly TurnMessage[],
  acked?: readonly number[] | null, fresh?: boolean,
];

/**
 * A task as it crosses to the worker: its groups, and `keepUntil`, the
 * task's latest deadline plus a margin: until then its turns may run again,
 * so callees must remember the keys of the calls they make.
 */
export type Task = readonly [keepUntil: number, groups: readonly TaskGroup[]];

/** [1, value] or [0, error]. */
export type TurnResult = readonly [1, unknown] | readonly [0, ErrorData];

/** A tell to deliver once the group has committed: an outbox entry [seq, type, key, method, args, caller]. */
export type OutgoingTell = OutboxEntry;

/** A published event to deliver once the group has committed: [topic, data, seq]; `seq` numbers this actor's events on the topic. */
export type OutgoingEvent = readonly [topic: string, data: unknown, seq: number];

/** No reminder (the `remindAt` of a GroupResult). */
export const NO_WAKE = -1;
/** The group failed before it could read the record: what the host knew still holds. */
export const WAKE_UNKNOWN = -2;

/**
 * What one group produced. `data` null means the record is unchanged (no write needed).
 * - `tells`: outbox entries to deliver (new ones; every pending one when the group was fresh).
 * - `outboxLow`: the lowest sequence number still in the outbox once this record is committed.
 * - `outboxPending`: tells in the outbox once this record is committed (-1: unknown).
 * - `remindAt`: the earliest reminder's due time, NO_WAKE for none (WAKE_UNKNOWN: unknown).
 */
export type GroupResult = readonly [
  group: number,
  data: Uint8Array | null,
  results: readonly TurnResult[],
  tells: readonly OutgoingTell[],
  events: readonly OutgoingEvent[],
  outboxLow: number,
  outboxPending: number,
  remindAt: number,
];

/**
 * A task's answer: the groups that finished, the ids of those still awaiting
 * something (their results come over the channel), and the worker thread
 * they go on running in (so a stuck one can be ended with its thread);
 * in tracing mode, when the worker took the task and when it answered.
 */
export type TaskResult = readonly [done: readonly GroupResult[], deferred: readonly number[], thread: number, timing?: readonly [workerIn: number, workerOut: number]];

/** Settings every worker receives at start. */
export interface WorkerSettings {
  readonly modules: readonly string[];
  readonly channel: string;
  readonly callTimeoutMs: number;
  readonly idem: IdemRetention;
  /** This node process's identity: names turns of calls without an idem key. */
  readonly incarnation: string;
}

/** Worker → host over the side channel. */
export type UpMessage =
  | { readonly k: 'call'; readonly w: number; readonly id: number; readonly type: string; readonly key: string; readonly method: string; readonly args: readonly unknown[]; readonly timeout: number; readonly idem: string | null; readonly caller: string | null; readonly tp?: string }
  | { readonly k: 'grid'; readonly w: number; readonly id: number; readonly op: GridOp; readonly name: string; readonly args: readonly unknown[] }
  | { readonly k: 'done'; readonly group: number; readonly result: Uint8Array };

/** `cmap.*` are the same operations on a consistent map (read from its owners, no near cache). */
export type GridOp = 'map.get' | 'map.set' | 'map.delete' | 'map.keys' | 'cmap.get' | 'cmap.set' | 'cmap.delete' | 'cmap.keys' | 'counter.get' | 'counter.addAndGet' | 'lock' | 'unlock';

/** Host → worker over the side channel. */
export type DownMessage =
  | { readonly k: 'reply'; readonly w: number; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly k: 'reply'; readonly w: number; readonly id: number; readonly ok: false; readonly error: ErrorData };

export const upChannel = (name: string): string => `${name}:up`;
export const downChannel = (name: string): string => `${name}:down`;

/**
 * A copy of `buf` that owns its whole ArrayBuffer. msgpackr returns views into
 * a large shared buffer, and cloning or transferring a view moves the whole
 * buffer underneath it.
 */
export function tight(buf: Uint8Array): Uint8Array {
  return buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength ? buf : Uint8Array.prototype.slice.call(buf);
}
