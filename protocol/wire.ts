/**
 * Wire protocol v1 between clients and a node's gateway: a public contract.
 *
 * A WebSocket frame holds one value (msgpack in binary frames, JSON in text
 * frames): a message object or an array of them (a batch). This module has no
 * Node dependencies so the browser SDK can share it.
 */
import type { ErrorCode, ErrorData } from './errors.js';

export const WS_PATH = '/v1/ws';

export type RequestId = number | string;

export interface CallMessage {
  readonly op: 'call';
  readonly id: RequestId;
  readonly actor: string;
  readonly key: string;
  readonly method: string;
  readonly args: readonly unknown[];
  readonly idem?: string;
  readonly timeout?: number;
}

export interface TellMessage {
  readonly op: 'tell';
  readonly actor: string;
  readonly key: string;
  readonly method: string;
  readonly args: readonly unknown[];
  readonly idem?: string;
  readonly timeout?: number;
}

export interface SubMessage {
  readonly op: 'sub' | 'unsub';
  readonly id: RequestId;
  readonly topic: string;
}

export type ClientMessage = CallMessage | TellMessage | SubMessage;

export interface ResultMessage {
  readonly op: 'result';
  readonly id: RequestId;
  readonly value: unknown;
}

export interface ErrorMessage {
  readonly op: 'error';
  readonly id: RequestId | null;
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: unknown;
}

export interface EventMessage {
  readonly op: 'event';
  readonly topic: string;
  readonly data: unknown;
}

export type ServerMessage = ResultMessage | ErrorMessage | EventMessage;

/** A message the gateway could not accept, with the id when one could be found. */
export interface Rejected {
  readonly rejected: true;
  readonly id: RequestId | null;
  readonly error: ErrorData;
}

const MAX_NAME = 256;
const MAX_KEY = 1024;

function idOf(value: Record<string, unknown>): RequestId | null {
  const id = value.id;
  return (typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id.length <= MAX_KEY) ? id : null;
}

function reject(id: RequestId | null, message: string): Rejected {
  return { rejected: true, id, error: { code: 'E_BAD_REQUEST', message } };
}

function isName(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

/**
 * Checks one decoded message at the gateway edge. Inside the node, types are
 * trusted; everything a client can send goes through here first.
 */
export function parseClientMessage(value: unknown): ClientMessage | Rejected {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return reject(null, 'a message must be an object with an "op" field');
  }
  const m = value as Record<string, unknown>;
  const id = idOf(m);
  const op = m.op;
  if (op === 'call' || op === 'tell') {
    if (op === 'call' && id === null) return reject(null, 'a call needs an "id" (number or string)');
    if (!isName(m.actor, MAX_NAME)) return reject(id, '"actor" must be a non-empty string');
    if (typeof m.key !== 'string' || m.key.length > MAX_KEY) return reject(id, `"key" must be a string of at most ${MAX_KEY} characters`);
    if (!isName(m.method, MAX_NAME)) return reject(id, '"method" must be a non-empty string');
    const args = m.args === undefined ? [] : m.args;
    if (!Array.isArray(args)) return reject(id, '"args" must be an array');
    if (m.idem !== undefined && !isName(m.idem, MAX_KEY)) return reject(id, `"idem" must be a non-empty string of at most ${MAX_KEY} characters`);
    if (m.timeout !== undefined && !(typeof m.timeout === 'number' && m.timeout > 0 && m.timeout <= 3_600_000)) {
      return reject(id, '"timeout" must be a number of milliseconds between 1 and 3600000');
    }
    const base = { actor: m.actor, key: m.key, method: m.method, args, idem: m.idem as string | undefined, timeout: m.timeout as number | undefined };
    return op === 'call' ? { op, id: id!, ...base } : { op, ...base };
  }
  if (op === 'sub' || op === 'unsub') {
    if (id === null) return reject(null, `"${op}" needs an "id" (number or string)`);
    if (!isName(m.topic, MAX_KEY)) return reject(id, '"topic" must be a non-empty string');
    return { op, id, topic: m.topic };
  }
  return reject(id, op === undefined ? 'missing "op"' : `unknown op ${JSON.stringify(String(op)).slice(0, 80)}`);
}

export function isRejected(v: ClientMessage | Rejected): v is Rejected {
  return (v as Rejected).rejected === true;
}

export function errorMessage(id: RequestId | null, error: ErrorData): ErrorMessage {
  return error.details === undefined
    ? { op: 'error', id, code: error.code, message: error.message }
    : { op: 'error', id, code: error.code, message: error.message, details: error.details };
}
