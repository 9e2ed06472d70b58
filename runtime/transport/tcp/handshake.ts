/**
 * The link handshake's messages and proofs (protocol `troupe-link` v1).
 *
 *   dialer                                   acceptor
 *     hello {id, to, inc, nonce, auth}  ->   <- hello {id, inc, nonce, auth}   (sent on accept)
 *     proof {mac_d}                     ->                                     (after the acceptor's hello)
 *                                       <-   accept {mac_a} | reject {reason}  (after checking mac_d)
 *
 * mac_r = HMAC-SHA256(secret, tag ‖ r ‖ dialer hello ‖ acceptor hello) with
 * r = "dialer" or "acceptor". Both nonces make every proof fresh (no replay),
 * the role stops a proof being reflected back to its sender, and covering
 * both hellos whole (ids, incarnations, frame limits, auth modes) means none
 * of what the two sides decide on can be altered in flight.
 *
 * The acceptor, the side strangers can reach, proves nothing until the dialer
 * has proven itself, so a stranger never obtains a MAC computed with the
 * secret. Nothing but these messages is read before the proofs check out.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LinkError } from './link-errors.js';

export const PROTOCOL = 'troupe-link';
export const VERSION = 1;
/** Bound into every proof, so a proof for another protocol or version never verifies here. */
const TAG = Buffer.from(`${PROTOCOL}/${VERSION}`);
const NONCE_BYTES = 32;
const MAC_BYTES = 32;
const MAX_ID = 256;
/** Handshake messages are small (a hello with two 256-character ids is under 2 KiB); a stranger gets at most this much buffered. */
export const HANDSHAKE_MAX_FRAME = 2048;

export type Role = 'dialer' | 'acceptor';
export type AuthMode = 'hmac' | 'none';

export interface Hello {
  readonly t: 'hello';
  readonly p: typeof PROTOCOL;
  readonly v: typeof VERSION;
  readonly id: string;
  /** Random per transport instance: tells a restarted peer (same id) from the one we are linked to. */
  readonly inc: string;
  readonly nonce: Uint8Array;
  readonly auth: AuthMode;
  /** Largest frame this side accepts; the other never sends a bigger one. */
  readonly maxFrame: number;
  /** Dialer only: the node it meant to reach. */
  readonly to?: string;
}

export interface Proof {
  readonly t: 'proof' | 'accept';
  readonly mac: Uint8Array;
}

export interface Reject {
  readonly t: 'reject';
  readonly reason: 'duplicate';
}

export function newIncarnation(): string {
  return randomBytes(8).toString('hex');
}

export function makeHello(id: string, inc: string, auth: AuthMode, maxFrame: number, to?: string): Hello {
  const hello: Hello = { t: 'hello', p: PROTOCOL, v: VERSION, id, inc, nonce: randomBytes(NONCE_BYTES), auth, maxFrame };
  return to === undefined ? hello : { ...hello, to };
}

function bad(why: string): LinkError {
  return new LinkError('LINK_BAD_HELLO', why);
}

function isBytes(value: unknown, length: number): value is Uint8Array {
  return value instanceof Uint8Array && value.length === length;
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID;
}

/** Checks a peer's hello field by field; it comes from the network, so nothing is assumed. */
export function parseHello(value: unknown, from: Role): Hello {
  if (typeof value !== 'object' || value === null) throw bad('hello is not a map');
  const h = value as Record<string, unknown>;
  if (h.t !== 'hello') throw bad('expected hello');
  if (h.p !== PROTOCOL || h.v !== VERSION) throw bad(`unsupported protocol ${String(h.p).slice(0, 32)}/${String(h.v).slice(0, 8)}`);
  if (!isId(h.id)) throw bad('hello has no valid id');
  if (typeof h.inc !== 'string' || h.inc.length === 0 || h.inc.length > 64) throw bad('hello has no valid incarnation');
  if (!isBytes(h.nonce, NONCE_BYTES)) throw bad('hello has no valid nonce');
  if (h.auth !== 'hmac' && h.auth !== 'none') throw bad('hello has no valid auth mode');
  if (typeof h.maxFrame !== 'number' || !Number.isInteger(h.maxFrame) || h.maxFrame < HANDSHAKE_MAX_FRAME) throw bad('hello has no valid frame limit');
  if (from === 'dialer' && !isId(h.to)) throw bad('dialer hello does not say which node it dialled');
  return h as unknown as Hello;
}

export function parseProof(value: unknown, expected: Proof['t']): Proof {
  if (typeof value !== 'object' || value === null) throw bad(`${expected} is not a map`);
  const p = value as Record<string, unknown>;
  if (p.t !== expected || !(p.mac instanceof Uint8Array)) throw bad(`expected ${expected}`);
  return p as unknown as Proof;
}

/** The acceptor's answer to a proof: accept (with its own proof) or a tie-break reject. */
export function parseAnswer(value: unknown): Proof | Reject {
  if (typeof value === 'object' && value !== null && (value as { t?: unknown }).t === 'reject') return { t: 'reject', reason: 'duplicate' };
  return parseProof(value, 'accept');
}

function field(parts: Buffer[], value: string | number | Uint8Array): void {
  const bytes = typeof value === 'string' ? Buffer.from(value) : typeof value === 'number' ? Buffer.from(String(value)) : Buffer.from(value);
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(bytes.length, 0);
  parts.push(len, bytes);
}

/** Length-prefixed fields: no two different transcripts encode to the same bytes. */
function transcript(role: Role, dialer: Hello, acceptor: Hello): Buffer {
  const parts: Buffer[] = [];
  field(parts, TAG);
  field(parts, role);
  for (const h of [dialer, acceptor]) {
    field(parts, h.id);
    field(parts, h.inc);
    field(parts, h.nonce);
    field(parts, h.auth);
    field(parts, h.maxFrame);
  }
  field(parts, dialer.to ?? '');
  return Buffer.concat(parts);
}

/** `secret` null (insecure mode): an empty proof, which verify() accepts only in insecure mode. */
export function prove(secret: string | null, role: Role, dialer: Hello, acceptor: Hello): Buffer {
  if (secret === null) return Buffer.alloc(0);
  return createHmac('sha256', secret).update(transcript(role, dialer, acceptor)).digest();
}

/** Constant-time check of the peer's proof for `role` (the peer's role). */
export function verify(secret: string | null, role: Role, dialer: Hello, acceptor: Hello, mac: Uint8Array): boolean {
  if (secret === null) return true;
  const expected = prove(secret, role, dialer, acceptor);
  // The length is public (32); only equal-length inputs reach the constant-time compare.
  return mac.length === MAC_BYTES && timingSafeEqual(expected, mac);
}
