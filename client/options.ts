/**
 * Client options: what users pass, and the validated, frozen form the rest of
 * the SDK reads. Every option is checked here, once, and a bad value throws a
 * TypeError naming the option, so a typo fails at connect() and not mid-run.
 */
import { MAX_TIMEOUT_MS } from '../protocol/index.js';

/** A bearer token, or a function called before every (re)connect, e.g. to refresh it. */
export type TokenSource = string | (() => string | Promise<string>);

export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface BackoffOptions {
  /** First delay in ms; doubles on every attempt. */
  readonly baseMs?: number;
  /** Ceiling for one delay in ms. */
  readonly maxMs?: number;
  /** How many attempts before giving up. */
  readonly attempts?: number;
}

export interface ClientOptions {
  /** One node, e.g. `ws://127.0.0.1:7070/v1/ws`. Give `url` or `urls`. */
  readonly url?: string;
  /** Several nodes; on a drop the client fails over to the next one. */
  readonly urls?: readonly string[];
  /** Sent as `Authorization: Bearer` in Node, as `?token=` in browsers. */
  readonly token?: TokenSource;
  /** Default per-call timeout in ms (default 5000). */
  readonly timeout?: number;
  /** How long `connect()` waits for the first connection, in ms (default 10000). */
  readonly connectTimeout?: number;
  /** Reconnect backoff (defaults: baseMs 100, maxMs 5000, attempts Infinity); `false` disables reconnecting. */
  readonly reconnect?: BackoffOptions | false;
  /**
   * Retry calls that fail with E_UNAVAILABLE, E_OVERLOADED or E_VERSION. Only calls with an
   * idem key are retried (defaults when given: attempts 3, baseMs 50, maxMs 2000).
   */
  readonly retry?: BackoffOptions;
  /** Give every call a generated idem key, so every call can be re-sent and retried safely. */
  readonly autoIdem?: boolean;
  /** Calls awaiting a reply (queued or sent) before new ones fail with E_OVERLOADED (default 10000). */
  readonly maxPending?: number;
  /** Stop writing to the socket while its bufferedAmount exceeds this many bytes (default 1 MiB). */
  readonly highWaterBytes?: number;
  /**
   * Most messages in one frame (default 256). A tick's calls leave in frames of
   * this size; smaller frames let the node start on the first while the rest are
   * still being encoded.
   */
  readonly maxBatch?: number;
  /** Most bytes in one frame; keep it at or below the gateway's --max-frame (default 1 MiB). */
  readonly maxFrameBytes?: number;
  /**
   * Failures with no caller to hand them to: a failed resubscribe, a broken frame,
   * a refused reconnect (TroupeErrors), or an exception thrown by an event handler.
   */
  readonly onError?: (error: Error) => void;
  /** Called on every state change. */
  readonly onStateChange?: (state: ClientState) => void;
  /**
   * A standard (WHATWG) WebSocket constructor to use instead of picking one:
   * for platforms without a global one, or tests. The token then travels as `?token=`.
   */
  readonly WebSocket?: typeof globalThis.WebSocket;
}

export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly attempts: number;
}

export interface ResolvedOptions {
  readonly urls: readonly string[];
  readonly token: TokenSource | undefined;
  readonly timeout: number;
  readonly connectTimeout: number;
  readonly reconnect: Backoff | null;
  readonly retry: Backoff | null;
  readonly autoIdem: boolean;
  readonly maxPending: number;
  readonly highWaterBytes: number;
  readonly maxBatch: number;
  readonly maxFrameBytes: number;
  readonly onError: (error: Error) => void;
  readonly onStateChange: (state: ClientState) => void;
  readonly WebSocket: typeof globalThis.WebSocket | undefined;
}


function positiveInt(name: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new TypeError(`option ${name} must be an integer between 1 and ${max}, got ${String(value)}`);
  }
  return value;
}

function attemptsOf(name: string, value: unknown, fallback: number): number {
  if (value === Infinity) return Infinity;
  if (value === 0) return 0;
  return positiveInt(name, value, fallback);
}

function backoff(name: string, value: BackoffOptions | undefined, defaults: Backoff): Backoff {
  if (value === null || typeof value !== 'object') throw new TypeError(`option ${name} must be an object { baseMs, maxMs, attempts }`);
  const baseMs = positiveInt(`${name}.baseMs`, value.baseMs, defaults.baseMs);
  const maxMs = positiveInt(`${name}.maxMs`, value.maxMs, Math.max(defaults.maxMs, baseMs));
  if (maxMs < baseMs) throw new TypeError(`option ${name}.maxMs (${maxMs}) must be at least ${name}.baseMs (${baseMs})`);
  return Object.freeze({ baseMs, maxMs, attempts: attemptsOf(`${name}.attempts`, value.attempts, defaults.attempts) });
}

function checkUrl(url: unknown, name: string): string {
  if (typeof url !== 'string') throw new TypeError(`option ${name} must be a ws:// or wss:// URL string`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`option ${name} is not a valid URL: ${url}`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new TypeError(`option ${name} must use ws:// or wss://, got ${parsed.protocol}//`);
  }
  return url;
}

function callback<F>(name: string, value: unknown, fallback: F): F {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') throw new TypeError(`option ${name} must be a function`);
  return value as F;
}

const noop = (): void => {};

export function resolveOptions(options: ClientOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('connect() needs an options object, e.g. { url }');
  if ((options.url === undefined) === (options.urls === undefined)) {
    throw new TypeError('give exactly one of option url (a string) or option urls (an array of strings)');
  }
  let urls: string[];
  if (options.urls !== undefined) {
    if (!Array.isArray(options.urls) || options.urls.length === 0) throw new TypeError('option urls must be a non-empty array of ws:// URLs');
    urls = options.urls.map((u, i) => checkUrl(u, `urls[${i}]`));
  } else {
    urls = [checkUrl(options.url, 'url')];
  }
  const token = options.token;
  if (token !== undefined && typeof token !== 'string' && typeof token !== 'function') {
    throw new TypeError('option token must be a string or a function returning one (or a promise of one)');
  }
  if (options.autoIdem !== undefined && typeof options.autoIdem !== 'boolean') throw new TypeError('option autoIdem must be a boolean');
  const timeout = positiveInt('timeout', options.timeout, 5000, MAX_TIMEOUT_MS);
  return Object.freeze({
    urls: Object.freeze(urls),
    token,
    timeout,
    connectTimeout: positiveInt('connectTimeout', options.connectTimeout, 10_000, MAX_TIMEOUT_MS),
    reconnect: options.reconnect === false ? null : backoff('reconnect', options.reconnect ?? {}, { baseMs: 100, maxMs: 5000, attempts: Infinity }),
    retry: options.retry === undefined ? null : backoff('retry', options.retry, { baseMs: 50, maxMs: 2000, attempts: 3 }),
    autoIdem: options.autoIdem ?? false,
    maxPending: positiveInt('maxPending', options.maxPending, 10_000),
    highWaterBytes: positiveInt('highWaterBytes', options.highWaterBytes, 1 << 20),
    maxBatch: positiveInt('maxBatch', options.maxBatch, 256, 65_535),
    maxFrameBytes: positiveInt('maxFrameBytes', options.maxFrameBytes, 1 << 20),
    onError: callback('onError', options.onError, noop),
    onStateChange: callback('onStateChange', options.onStateChange, noop),
    WebSocket: callback('WebSocket', options.WebSocket, undefined),
  });
}

/** Per-call options. */
export interface CallOptions {
  /** Milliseconds before the call fails with E_TIMEOUT; overrides the client's default. */
  readonly timeout?: number;
  /**
   * Idempotency key: the node applies calls with the same key at most once, so
   * the SDK may re-send the call after a reconnect and retry it. A proxy made
   * with an idem key uses it for every call through it: make one per call.
   */
  readonly idem?: string;
}

export function checkCallOptions(options: CallOptions | undefined): void {
  if (options === undefined) return;
  if (options.timeout !== undefined) positiveInt('timeout', options.timeout, 0, MAX_TIMEOUT_MS);
  if (options.idem !== undefined && (typeof options.idem !== 'string' || options.idem.length === 0 || options.idem.length > 1024)) {
    throw new TypeError('option idem must be a non-empty string of at most 1024 characters');
  }
}
