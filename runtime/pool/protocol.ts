/**
 * The only things the pool's host side (`turn-pool.ts`) and worker side
 * (`worker.ts`) share. Tasks and results travel as one msgpack buffer each:
 * one copy per batch instead of a structured clone per object.
 */
import type { ErrorData } from '../../protocol/errors.js';
import type { IdemRetention } from '../record.js';

/**
 * One message for one actor: [method, args, idem key or null, caller id or
 * null, ack]. `ack`, on calls forwarded by another node, is the lowest
 * sequence number that node still waits on: results of its calls below it
 * have arrived and need not be kept (see runtime/record.ts).
 */
export type TurnMessage = readonly [method: string, args: readonly unknown[], idem: string | null, caller: string | null, ack?: number];

/** The turns one actor runs in one task, in order. `data` is the actor's record as read from the grid (null: new actor). */
export type TaskGroup = readonly [group: number, type: string, key: string, data: Uint8Array | null, messages: readonly TurnMessage[]];

/** [1, value] or [0, error]. */
export type TurnResult = readonly [1, unknown] | readonly [0, ErrorData];

/** A one-way message to send once the group has committed: [type, key, method, args]. */
export type OutgoingTell = readonly [type: string, key: string, method: string, args: readonly unknown[]];

/** A published event to deliver once the group has committed: [topic, data]. */
export type OutgoingEvent = readonly [topic: string, data: unknown];

/** What one group produced. `data` null means the record is unchanged (no write needed). */
export type GroupResult = readonly [
  group: number,
  data: Uint8Array | null,
  results: readonly TurnResult[],
  tells: readonly OutgoingTell[],
  events: readonly OutgoingEvent[],
];

/** A task's answer: the groups that finished, and the ids of those still awaiting something (their results come over the channel). */
export type TaskResult = readonly [done: readonly GroupResult[], deferred: readonly number[]];

/** Settings every worker receives at start. */
export interface WorkerSettings {
  readonly modules: readonly string[];
  readonly channel: string;
  readonly callTimeoutMs: number;
  readonly idem: IdemRetention;
}

/** Worker → host over the side channel. */
export type UpMessage =
  | { readonly k: 'call'; readonly w: number; readonly id: number; readonly type: string; readonly key: string; readonly method: string; readonly args: readonly unknown[]; readonly timeout: number; readonly idem: string | null; readonly caller: string | null }
  | { readonly k: 'grid'; readonly w: number; readonly id: number; readonly op: GridOp; readonly name: string; readonly args: readonly unknown[] }
  | { readonly k: 'done'; readonly result: Uint8Array };

export type GridOp = 'map.get' | 'map.set' | 'map.delete' | 'map.keys' | 'counter.get' | 'counter.addAndGet' | 'lock' | 'unlock';

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
