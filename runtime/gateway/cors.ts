/**
 * CORS for the HTTP API: which web pages a browser lets call it. Off unless
 * `--allowed-origins` lists origins: then a preflight (OPTIONS) from a listed
 * origin is answered 204 with what it may send, and answers to it carry
 * `Access-Control-Allow-Origin`. A preflight from any other origin is refused
 * (403, no CORS headers), so the browser never sends the call.
 *
 * Credentials (cookies) are never allowed: callers authenticate with a bearer
 * token in `authorization`, which a page sets itself.
 */

/** Request headers a page may send: the API's own. */
const ALLOWED_HEADERS = 'content-type, authorization, idempotency-key, x-troupe-timeout';
/** How long a browser may reuse a preflight's answer, seconds. */
const PREFLIGHT_MAX_AGE = 600;

export type HeaderList = readonly (readonly [string, string])[];

export class CorsPolicy {
  private readonly any: boolean;
  private readonly listed: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.any = origins.includes('*');
    this.listed = new Set(origins);
  }

  get enabled(): boolean {
    return this.any || this.listed.size > 0;
  }

  allows(origin: string): boolean {
    return origin !== '' && (this.any || this.listed.has(origin));
  }

  /** Headers for an answer to a request with this `Origin` (empty when it gets none). */
  responseHeaders(origin: string): HeaderList {
    if (!this.allows(origin)) return this.enabled ? [['vary', 'origin']] : [];
    // The origin itself, not '*', even when any is allowed: one answer shape, and `vary` keeps caches apart.
    return [['access-control-allow-origin', origin], ['vary', 'origin']];
  }

  /** The answer to a preflight: 204 with its headers, or 403 with the reason. */
  preflight(origin: string, method: string, allowedMethods: readonly string[]): { status: 204; headers: HeaderList } | { status: 403; message: string } {
    if (origin === '') return { status: 403, message: 'a preflight needs an Origin header' };
    if (!this.allows(origin)) {
      return { status: 403, message: `origin ${origin} may not call this API from a browser${this.enabled ? ' (not in --allowed-origins)' : ' (--allowed-origins is not set)'}` };
    }
    if (method !== '' && !allowedMethods.includes(method.toUpperCase())) {
      return { status: 403, message: `method ${method} is not allowed here (${allowedMethods.join(', ')})` };
    }
    return {
      status: 204,
      headers: [
        ...this.responseHeaders(origin),
        ['access-control-allow-methods', allowedMethods.join(', ')],
        ['access-control-allow-headers', ALLOWED_HEADERS],
        ['access-control-max-age', String(PREFLIGHT_MAX_AGE)],
      ],
    };
  }
}
