/**
 * The failures the SDK raises on its own (as opposed to errors the node sends),
 * in one place so their codes and wording stay consistent. Codes come from the
 * wire protocol, so callers handle a local timeout and a server timeout alike.
 */
import { TroupeError } from '../protocol/index.js';

export const ClientErrors = {
  timeout: (ms: number) =>
    new TroupeError('E_TIMEOUT', `no reply within ${ms} ms; the call may still have been applied (pass an idem key to retry safely)`),
  connectionLost: () =>
    new TroupeError('E_UNAVAILABLE', 'the connection dropped while the call was in flight; it may or may not have been applied (pass an idem key or set autoIdem to have it re-sent)'),
  closed: () => new TroupeError('E_UNAVAILABLE', 'the client is closed; create a new one with connect()'),
  connectFailed: (urls: readonly string[], ms: number, cause?: unknown) =>
    new TroupeError('E_UNAVAILABLE', `could not connect to ${urls.join(', ')} within ${ms} ms; check the URLs and that a node is running`, { cause }),
  gaveUp: (attempts: number) =>
    new TroupeError('E_UNAVAILABLE', `gave up reconnecting after ${attempts} attempts; create a new client`),
  unauthorized: (url: string) =>
    new TroupeError('E_UNAUTHORIZED', `${url} refused the token (HTTP 401/403); check the token option`),
  queueFull: (limit: number) =>
    new TroupeError('E_OVERLOADED', `more than ${limit} calls are pending in this client (maxPending); wait for some to finish before sending more`),
  tooLarge: (size: number, max: number) =>
    new TroupeError('E_TOO_LARGE', `message of ${size} bytes exceeds maxFrameBytes (${max}); send less data per call`),
  unencodable: (cause: unknown) =>
    new TroupeError('E_BAD_REQUEST', `the call's arguments cannot be encoded as msgpack: ${cause instanceof Error ? cause.message : String(cause)}`, { cause }),
  badFrame: (cause: unknown) =>
    new TroupeError('E_BAD_REQUEST', `the node sent a frame that is not valid msgpack/JSON: ${cause instanceof Error ? cause.message : String(cause)}`, { cause }),
} as const;
