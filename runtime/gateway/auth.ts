/**
 * Client authentication: with TROUPE_AUTH_SECRET set, every WebSocket
 * upgrade and HTTP request must carry a JWT signed HS256 with that secret and
 * carrying `exp` (as `Authorization: Bearer <token>`, or `?token=<token>` on
 * the WebSocket URL for browsers, which cannot set headers). The token's
 * `sub` becomes the caller's identity (`this.caller` in handlers).
 */
import { jwtVerify, errors as joseErrors } from 'jose';
import type { HttpResponse } from 'uWebSockets.js';
import type { ErrorData } from '../../protocol/errors.js';

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
    async verify(token) {
      if (token === null || token === '') return unauthorized('a token is required: send Authorization: Bearer <jwt> (or ?token= on the WebSocket URL)');
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], requiredClaims: ['exp'] });
        return { caller: typeof payload.sub === 'string' ? payload.sub : null };
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired) return unauthorized('the token has expired');
        if (err instanceof joseErrors.JWTClaimValidationFailed) return unauthorized(`the token is missing a required claim (${err.claim})`);
        return unauthorized('the token is not valid for this node (bad signature, algorithm or format)');
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
