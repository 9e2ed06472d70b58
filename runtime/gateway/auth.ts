/**
 * Client authentication: with TROUPE_AUTH_SECRET set, every WebSocket
 * upgrade and HTTP request must carry a JWT signed HS256 with that secret and
 * carrying `exp` (as `Authorization: Bearer <token>`, or `?token=<token>` on
 * the WebSocket URL for browsers, which cannot set headers). The token's
 * `sub` becomes the caller's identity (`this.caller` in handlers).
 */
import type { HttpResponse } from 'uWebSockets.js';
import type { ErrorData } from '../../protocol/errors.js';
import { verifyHs256 } from './hs256-jwt.js';

export type AuthResult = { readonly caller: string | null } | { readonly error: ErrorData };

export interface Authenticator {
  readonly required: boolean;
  /** Checks a token (null when none was presented). */
  verify(token: string | null): Promise<AuthResult> | AuthResult;
}

const ANONYMOUS: AuthResult = Object.freeze({ caller: null });

export const openAccess: Authenticator = { required: false, verify: () => ANONYMOUS };

export function jwtAuthenticator(secret: string): Authenticator {
  const key = new TextEncoder().encode(secret);
  return {
    required: true,
    // Synchronous on purpose: hs256-jwt.ts says why (a uWS bug with upgrades finished after an await).
    verify(token) {
      if (token === null || token === '') return unauthorized('a token is required: send Authorization: Bearer <jwt> (or ?token= on the WebSocket URL)');
      const r = verifyHs256(token, key);
      if (r.ok) return { caller: typeof r.payload.sub === 'string' ? r.payload.sub : null };
      switch (r.reason) {
        case 'expired': return unauthorized('the token has expired');
        case 'missing-exp': return unauthorized('the token is missing a required claim (exp)');
        case 'not-yet-valid': return unauthorized('the token is not valid yet (nbf)');
        default: return unauthorized('the token is not valid for this node (bad signature, algorithm or format)');
      }
    },
  };
}

function unauthorized(message: string): AuthResult {
  return { error: { code: 'E_UNAUTHORIZED', message } };
}

/** The token a request presents: the Authorization header first, then the `token` query parameter. */
export function presentedToken(authorization: string, query: string): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (m !== null) return m[1]!;
  if (query !== '') {
    const t = new URLSearchParams(query).get('token');
    if (t !== null) return t;
  }
  return null;
}

/**
 * Runs `then` with a verification's result on a uWS response: at once when
 * the result is already known, else when it settles, corked, and not at all
 * if the client went away meanwhile (uWS forbids touching an aborted response).
 * The built-in authenticators answer at once; the deferred path is for an
 * async one, and a WebSocket upgrade finished there meets the uWS bug that
 * hs256-jwt.ts describes, so keep authenticators synchronous where possible.
 */
export function whenVerified(res: HttpResponse, who: Promise<AuthResult> | AuthResult, then: (result: AuthResult) => void): void {
  if (!(who instanceof Promise)) {
    then(who);
    return;
  }
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  void who.then((result) => {
    if (!aborted) res.cork(() => then(result));
  });
}
