/**
 * HS256 JWT verification, synchronous (node:crypto HMAC), for the gateway.
 *
 * Why not jose's jwtVerify: it is async (WebCrypto), so a WebSocket upgrade
 * had to finish after an await, with `res.cork(() => res.upgrade(...))` from
 * outside uWS's handler. The uWebSockets.js v20.51 build (the one that loads
 * on Node 22) then closes about one freshly upgraded socket in seven 0.2 ms
 * after `open` (code 1006; uNetworking/uWebSockets#1928, fixed upstream in
 * #1929 after that build). Verified synchronously, the upgrade completes
 * inside the handler, the path uWS itself is built for, and costs ~3 µs
 * instead of an event-loop turn. Signing stays with jose (peer tokens, tests).
 *
 * Checks, as jose does with `algorithms: ['HS256'], requiredClaims: ['exp']`:
 * three base64url parts, header `alg` exactly HS256 and no `crit`, signature
 * by constant-time comparison, payload a JSON object, `exp` a number in the
 * future, `nbf` (when present) a number not in the future.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type JwtCheck =
  | { readonly ok: true; readonly payload: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: 'malformed' | 'algorithm' | 'signature' | 'expired' | 'not-yet-valid' | 'missing-exp' };

const B64URL = /^[A-Za-z0-9_-]*$/;

function json(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function verifyHs256(token: string, key: Uint8Array, nowSeconds = Math.floor(Date.now() / 1000)): JwtCheck {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p)) || parts[0] === '' || parts[2] === '') return { ok: false, reason: 'malformed' };
  const [h, p, s] = parts as [string, string, string];
  const header = json(h);
  if (!isObject(header)) return { ok: false, reason: 'malformed' };
  if (header.alg !== 'HS256' || header.crit !== undefined) return { ok: false, reason: 'algorithm' };
  const expected = createHmac('sha256', key).update(`${h}.${p}`).digest();
  const given = Buffer.from(s, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
  const payload = json(p);
  if (!isObject(payload)) return { ok: false, reason: 'malformed' };
  if (payload.exp === undefined) return { ok: false, reason: 'missing-exp' };
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) return { ok: false, reason: 'malformed' };
  if (payload.exp <= nowSeconds) return { ok: false, reason: 'expired' };
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > nowSeconds)) return { ok: false, reason: 'not-yet-valid' };
  return { ok: true, payload };
}
