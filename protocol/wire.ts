/**
 * Wire protocol v1 between clients and a node's gateway: a public contract.
 *
 * A WebSocket frame holds one value (msgpack in binary frames, JSON in text
 * frames): a message object or an array of them (a batch). This module has no
 * Node dependencies so the browser SDK can share it.
 */
import type { ErrorCode, ErrorData } from './errors.js';
import { DEFAULT_LIMITS, type WireLimits } from './limits.js';
import { isTraceparent } from './traceparent.js';

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
  /**
   * W3C trace context of the caller's span (`00-<trace id>-<span id>-<flags>`).
   * Optional; a value that is not a valid version-00 traceparent is ignored
   * (the call is served, starting a trace of its own), as the W3C spec asks
   * of a receiver that cannot parse one.
   */
  readonly traceparent?: string;
}

export interface TellMessage {
  readonly op: 'tell';
  readonly actor: string;
  readonly key: string;
  readonly method: string;
  readonly args: readonly unknown[];
  readonly idem?: string;
  readonly timeout?: number;
  /**
   * W3C trace context of the caller's span (`00-<trace id>-<span id>-<flags>`).
   * Optional; a value that is not a valid version-00 traceparent is ignored
   * (the call is served, starting a trace of its own), as the W3C spec asks
   * of a receiver that cannot parse one.
   */
  readonly traceparent?: string;
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
  /** The publishing actor, `Type/key`. */
  readonly from?: string;
  /** The publisher's number for this event on this topic: 1, 2, 3, ... A jump means events were missed. */
  readonly seq?: number;
}

export type ServerMessage = ResultMessage | ErrorMessage | EventMessage;

/** A message the gateway could not accept, with the id when one could be found. */
export interface Rejected {
  readonly rejected: true;
  readonly id: RequestId | null;
  readonly error: ErrorData;
}

/** The longest deadline a message may ask for, ms (`timeout`; over HTTP, `x-troupe-timeout`). */
export const MAX_TIMEOUT_MS = 3_600_000;

/** Idempotency keys the runtime makes up start with this; a client's never may. */
export const RESERVED_IDEM_PREFIX = '~';

/** A message's `id` when it is a usable one (a finite number, or a string of at most `maxKey` characters), else null. */
export function requestId(id: unknown, maxKey: number): RequestId | null {
  return (typeof id === 'number' && Number.isFinite(id)) || (typeof id === 'string' && id.length <= maxKey) ? id : null;
}

function reject(id: RequestId | null, message: string): Rejected {
  return { rejected: true, id, error: { code: 'E_BAD_REQUEST', message } };
}

function isName(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

/**
 * Checks one decoded message's fields at the gateway edge. Inside the node,
 * types are trusted; everything a client can send goes through here first.
 * (The shape of its values, depth and sizes, is checked while decoding.)
 */
export function parseClientMessage(value: unknown, limits: WireLimits = DEFAULT_LIMITS): ClientMessage | Rejected {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return reject(null, 'a message must be an object with an "op" field');
  }
  const m = value as Record<string, unknown>;
  const max = limits.maxKey;
  const id = requestId(m.id, max);
  const op = m.op;
  if (op === 'call' || op === 'tell') {
    if (op === 'call' && id === null) return reject(null, 'a call needs an "id" (number or string)');
    if (!isName(m.actor, max)) return reject(id, `"actor" must be a non-empty string of at most ${max} characters`);
    if (typeof m.key !== 'string' || m.key.length > max) return reject(id, `"key" must be a string of at most ${max} characters`);
    if (!isName(m.method, max)) return reject(id, `"method" must be a non-empty string of at most ${max} characters`);
    const args = m.args === undefined ? [] : m.args;
    if (!Array.isArray(args)) return reject(id, '"args" must be an array');
    if (m.idem !== undefined && !isName(m.idem, max)) return reject(id, `"idem" must be a non-empty string of at most ${max} characters`);
    if (typeof m.idem === 'string' && m.idem.startsWith(RESERVED_IDEM_PREFIX)) return reject(id, `"idem" keys starting with '${RESERVED_IDEM_PREFIX}' are the runtime's own`);
    if (m.timeout !== undefined && !(typeof m.timeout === 'number' && m.timeout > 0 && m.timeout <= MAX_TIMEOUT_MS)) {
      return reject(id, `"timeout" must be a number of milliseconds between 1 and ${MAX_TIMEOUT_MS}`);
    }
    const idem = m.idem as string | undefined;
    const timeout = m.timeout as number | undefined;
    // Absent in nearly every message: only a present, valid one is kept (see CallMessage.traceparent).
    const tp = m.traceparent;
    // One literal per case, no spread of a shared base: this runs for every call a client sends.
    if (tp !== undefined && isTraceparent(tp)) {
      return op === 'call'
        ? { op, id: id!, actor: m.actor, key: m.key, method: m.method, args, idem, timeout, traceparent: tp }
        : { op, actor: m.actor, key: m.key, method: m.method, args, idem, timeout, traceparent: tp };
    }
    return op === 'call'
      ? { op, id: id!, actor: m.actor, key: m.key, method: m.method, args, idem, timeout }
      : { op, actor: m.actor, key: m.key, method: m.method, args, idem, timeout };
  }
  if (op === 'sub' || op === 'unsub') {
    if (id === null) return reject(null, `"${op}" needs an "id" (number or string)`);
    if (!isName(m.topic, max)) return reject(id, `"topic" must be a non-empty string of at most ${max} characters`);
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
