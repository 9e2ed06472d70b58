/**
 * Why a link (or an attempt at one) ended, as stable codes. These never
 * reach clients: `send()` answers with a boolean and the cluster layer maps
 * that to its own wire errors. They appear in logs (`reason`) and decide
 * whether a failed dial counts against the peer's circuit breaker.
 */
export const LINK_ERROR_CODES = [
  /** TCP connect failed (refused, unreachable, reset before the handshake). */
  'LINK_CONNECT_FAILED',
  /** The handshake did not finish within the handshake timeout. */
  'LINK_HANDSHAKE_TIMEOUT',
  /** A handshake message was malformed, out of order, or of another protocol/version. */
  'LINK_BAD_HELLO',
  /** The peer's proof did not check out: it does not know the shared secret. */
  'LINK_AUTH_FAILED',
  /** One side runs with a secret, the other in insecure mode. */
  'LINK_AUTH_MODE',
  /** The address is served by another node than the one dialled (or dialled for another node). */
  'LINK_WRONG_PEER',
  /** The peer claims this node's own id: two nodes share an id, or a node dialled itself. */
  'LINK_SELF',
  /** A length prefix above the frame limit; the frame is never buffered. */
  'LINK_FRAME_TOO_LARGE',
  /** A frame that is not valid msgpack, or not an array of messages. */
  'LINK_BAD_FRAME',
  /** Nothing arrived (not even a heartbeat) within the idle timeout. */
  'LINK_IDLE',
  /** The peer closed the connection, or it failed after the handshake. */
  'LINK_CLOSED',
  /** Tie-break: a link between the two nodes exists or is being made by the other side. Not a failure. */
  'LINK_DUPLICATE',
  /** Tie-break: our dial was abandoned for the peer's winning dial. Not a failure. */
  'LINK_SUPERSEDED',
  /** A newer link from a restarted peer replaced this one. */
  'LINK_REPLACED',
  /** Too many unauthenticated connections: the oldest was dropped to make room. */
  'LINK_EVICTED',
  /** `forget()` or `close()` ended it. Not a failure. */
  'LINK_SHUTDOWN',
] as const;

export type LinkErrorCode = (typeof LINK_ERROR_CODES)[number];

/** Codes that say nothing about the peer's health: they never count against its breaker. */
export const NEUTRAL_CODES: ReadonlySet<LinkErrorCode> = new Set<LinkErrorCode>(['LINK_DUPLICATE', 'LINK_SUPERSEDED', 'LINK_SHUTDOWN']);

export class LinkError extends Error {
  readonly code: LinkErrorCode;

  constructor(code: LinkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LinkError';
    this.code = code;
  }
}

/** The code of anything a link fails with; an unknown failure is a closed link. */
export function linkErrorCode(err: unknown): LinkErrorCode {
  return err instanceof LinkError ? err.code : 'LINK_CLOSED';
}
