/**
 * Every failure a Troupe user can see, in one place.
 *
 * Errors cross worker threads, node links and client sockets as plain data
 * (`{ code, message, details }`): a class does not survive msgpack or
 * structured clone, so callers match on `code`, never on `instanceof`.
 */

/** Stable error codes of wire protocol v1. Adding one is a protocol change: update README's table too. */
export const ERROR_CODES = [
  'E_BAD_REQUEST',
  'E_UNKNOWN_ACTOR',
  'E_UNKNOWN_METHOD',
  'E_ACTOR_FAILED',
  'E_TIMEOUT',
  'E_OVERLOADED',
  'E_UNAVAILABLE',
  'E_UNAUTHORIZED',
  'E_TOO_LARGE',
  'E_FENCED',
  'E_DATA_LOST',
  'E_VERSION',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** What an error looks like on the wire, between threads and between nodes. */
export interface ErrorData {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: unknown;
}

/** HTTP status for each code, used by the HTTP routes of the gateway. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  E_BAD_REQUEST: 400,
  E_UNKNOWN_ACTOR: 404,
  E_UNKNOWN_METHOD: 404,
  E_ACTOR_FAILED: 422,
  E_TIMEOUT: 504,
  E_OVERLOADED: 429,
  E_UNAVAILABLE: 503,
  E_UNAUTHORIZED: 401,
  E_TOO_LARGE: 413,
  E_FENCED: 409,
  E_DATA_LOST: 500,
  // 503: another node (one with the new code), or this one once updated, can serve it; proxies retry elsewhere on 503.
  E_VERSION: 503,
});

/** Codes a caller may retry after a backoff without risking a double effect (with an idempotency key). */
// E_VERSION: nothing was applied, and the record's version is served once the node's code catches up (a rolling update).
export const RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['E_UNAVAILABLE', 'E_OVERLOADED', 'E_VERSION']);

export class TroupeError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, options?: { details?: unknown; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TroupeError';
    this.code = code;
    if (options?.details !== undefined) this.details = options.details;
  }

  /** The form that crosses threads, links and sockets; never includes the stack or the cause. */
  toData(): ErrorData {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  static fromData(data: ErrorData): TroupeError {
    return new TroupeError(data.code, data.message, { details: data.details });
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Turns anything thrown into wire data; unknown failures become `fallback` with the thrown message. */
export function toErrorData(err: unknown, fallback: ErrorCode = 'E_ACTOR_FAILED'): ErrorData {
  if (err instanceof TroupeError) return err.toData();
  if (err !== null && typeof err === 'object' && isErrorCode((err as { code?: unknown }).code)) {
    const e = err as { code: ErrorCode; message?: unknown; details?: unknown };
    return { code: e.code, message: String(e.message ?? e.code), ...(e.details === undefined ? {} : { details: e.details }) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: fallback, message };
}

// Constructors for each failure, so messages stay consistent and say what to do.
export const Errors = {
  badRequest: (why: string) => new TroupeError('E_BAD_REQUEST', why),
  unknownActor: (type: string) =>
    new TroupeError('E_UNKNOWN_ACTOR', `no actor type '${type}' is registered on this node (check --actors)`),
  unknownMethod: (type: string, method: string) =>
    new TroupeError('E_UNKNOWN_METHOD', `actor type '${type}' exposes no method '${method}'`),
  actorFailed: (message: string) => new TroupeError('E_ACTOR_FAILED', message),
  timeout: (ms: number, what = 'call') => new TroupeError('E_TIMEOUT', `${what} did not complete within ${ms} ms`),
  overloaded: (what: string) => new TroupeError('E_OVERLOADED', `${what} is full; retry after a backoff`),
  unavailable: (what: string) => new TroupeError('E_UNAVAILABLE', `${what} is unavailable; retry after a backoff`),
  unauthorized: (why: string) => new TroupeError('E_UNAUTHORIZED', why),
  fenced: (what: string, token: number, newer: number) =>
    new TroupeError('E_FENCED', `${what} was written under a newer lock (token ${newer} > ${token}): this holder's lock ran out; take it again`),
  tooLarge: (size: number, max: number) =>
    new TroupeError('E_TOO_LARGE', `message of ${size} bytes exceeds the maximum of ${max} bytes`),
  // The edge's limits on a message's shape (protocol/limits.ts); the flags are the node's settings for them.
  tooDeep: (max: number) =>
    new TroupeError('E_BAD_REQUEST', `the message nests arrays or objects deeper than ${max} levels (--max-depth)`),
  stringTooLong: (size: number, max: number, unit: 'bytes' | 'characters') =>
    new TroupeError('E_TOO_LARGE', `a string or binary value of ${size} ${unit} exceeds the maximum of ${max} (--max-string)`),
  collectionTooLarge: (size: number, max: number) =>
    new TroupeError('E_TOO_LARGE', `an array, object or map of ${size} entries exceeds the maximum of ${max} (--max-collection)`),
  extensionRefused: (type: number) =>
    new TroupeError('E_BAD_REQUEST', `msgpack extension type ${type} is not accepted: only timestamps (-1) and undefined (0)`),
  dataLost: (type: string, key: string, detail: string) =>
    new TroupeError(
      'E_DATA_LOST',
      `the state of actor ${type}/${key} is lost (${detail}); it is not started afresh: an operator must restore it or accept the loss (README: "E_DATA_LOST")`,
    ),
  newerVersion: (type: string, key: string, stored: number, code: number) =>
    new TroupeError(
      'E_VERSION',
      `the record of actor ${type}/${key} has state version ${stored}, newer than this node's code (version ${code}); this node refuses it rather than damage it: retry (a node with the newer code serves it) and finish the rolling update`,
      { details: { stored, code } },
    ),
} as const;
