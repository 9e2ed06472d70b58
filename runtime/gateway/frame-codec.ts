/**
 * Frames in and out of the gateway. Binary frames are msgpack, text frames
 * JSON; either holds one message or an array of them. Decoding failures come
 * back as data, never as exceptions, so one bad frame cannot hurt the socket.
 *
 * The edge's limits (protocol/limits.ts) are checked here, per message: a
 * message past one is replaced by a `Refused` carrying its id (when one can
 * be found) and its error, and the rest of its batch goes on. Only a frame
 * that is not msgpack or JSON at all, or a batch past --max-batch, is
 * refused whole.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { ErrorCode, ErrorData } from '../../protocol/errors.js';
import type { WireLimits } from '../../protocol/limits.js';
import { requestId, type RequestId, type ServerMessage } from '../../protocol/wire.js';
import { checkJson } from './json-check.js';
import { MsgpackScanner, REFUSED } from './msgpack-scan.js';

// copyBuffers: binary args must outlive the frame, whose memory uWS reclaims after the handler returns.
const unpackr = new Unpackr({ useRecords: false, copyBuffers: true, mapsAsObjects: true });
const packr = new Packr({ useRecords: false });
const utf8 = new TextDecoder('utf-8', { fatal: true });
// One pass at a time on the event loop's thread: one scanner (its stack array) serves every frame.
const scanner = new MsgpackScanner();

export interface DecodeLimits extends WireLimits {
  /** Most messages in one frame. */
  readonly maxBatch: number;
}

/** A message refused while its frame was decoded, in its place in the batch. Not a value a client can send. */
export class Refused {
  constructor(readonly id: RequestId | null, readonly error: ErrorData) {}
}

export type Decoded =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly code: Extract<ErrorCode, 'E_BAD_REQUEST' | 'E_TOO_LARGE'>; readonly message: string };

const NOT_MSGPACK: ErrorData = { code: 'E_BAD_REQUEST', message: 'binary frame is not valid msgpack' };
const notMsgpack: Decoded = { ok: false, code: 'E_BAD_REQUEST', message: NOT_MSGPACK.message };
const notJson: Decoded = { ok: false, code: 'E_BAD_REQUEST', message: 'text frame is not valid JSON' };

function batchTooLarge(n: number, max: number): Decoded {
  return { ok: false, code: 'E_TOO_LARGE', message: `batch of ${n} messages exceeds the maximum of ${max} (--max-batch)` };
}

export function decodeFrame(frame: ArrayBuffer, binary: boolean, limits: DecodeLimits): Decoded {
  return binary ? decodeMsgpack(new Uint8Array(frame), limits) : decodeText(frame, limits);
}

/** A frame's batch head: [messages, bytes of the head], or [-1, 0] when the frame is one message (not an array). */
function batchHead(bytes: Uint8Array): [count: number, head: number] {
  const t = bytes[0]!;
  if (t >= 0x90 && t < 0xa0) return [t & 0x0f, 1];
  if (t === 0xdc && bytes.length >= 3) return [(bytes[1]! << 8) | bytes[2]!, 3];
  if (t === 0xdd && bytes.length >= 5) return [bytes[1]! * 0x1000000 + ((bytes[2]! << 16) | (bytes[3]! << 8) | bytes[4]!), 5];
  return [-1, 0];
}

function decodeMsgpack(bytes: Uint8Array, limits: DecodeLimits): Decoded {
  if (bytes.length === 0) return notMsgpack;
  const [count, head] = batchHead(bytes);
  let pos = head;
  if (count < 0) {
    // One message.
    const end = scanner.value(bytes, 0, limits);
    if (end === REFUSED) return { ok: true, value: refusedAt(bytes, 0, limits, scanner.error!) };
    // Broken msgpack: still answered with the message's id when it can be read before the break.
    if (end !== bytes.length) return { ok: true, value: refusedAt(bytes, 0, limits, NOT_MSGPACK) };
    const one = unpack(bytes);
    return one.ok ? one : { ok: true, value: refusedAt(bytes, 0, limits, NOT_MSGPACK) };
  }
  if (count > limits.maxBatch) return batchTooLarge(count, limits.maxBatch);
  // A batch: each message is checked on its own, so a refused one does not take the others down.
  let refused: number[] | null = null;
  const starts = new Array<number>(count + 1);
  for (let i = 0; i < count; i++) {
    starts[i] = pos;
    let end = scanner.value(bytes, pos, limits);
    if (end === REFUSED) {
      (refused ??= []).push(i);
      end = scanner.skip(bytes, pos);
    }
    if (end < 0) return notMsgpack;
    pos = end;
  }
  starts[count] = pos;
  if (pos !== bytes.length) return notMsgpack;
  if (refused === null) return unpack(bytes);
  // Rare: decode the accepted messages one by one, never the refused ones.
  const out = new Array<unknown>(count);
  let r = 0;
  for (let i = 0; i < count; i++) {
    if (refused[r] === i) {
      r++;
      scanner.value(bytes, starts[i]!, limits); // again, for its error: the batch's later messages overwrote it
      out[i] = refusedAt(bytes, starts[i]!, limits, scanner.error!);
      continue;
    }
    const one = unpack(bytes.subarray(starts[i]!, starts[i + 1]!));
    if (!one.ok) return one;
    out[i] = one.value;
  }
  return { ok: true, value: out };
}

/** A binary frame every message of which passed the edge's checks: message i is bytes[starts[i], starts[i + 1]). */
export interface ScannedFrame {
  readonly bytes: Uint8Array;
  readonly starts: readonly number[];
}

/**
 * The messages of a binary frame, located and checked but not decoded, when
 * all of them pass (the usual frame); null for anything else (a message past
 * a limit, broken msgpack, a batch past --max-batch), which decodeFrame()
 * answers with the precise error.
 */
export function scanFrame(frame: ArrayBuffer, limits: DecodeLimits): ScannedFrame | null {
  const bytes = new Uint8Array(frame);
  if (bytes.length === 0) return null;
  const [count, head] = batchHead(bytes);
  let pos = head;
  if (count < 0) return scanner.value(bytes, 0, limits) === bytes.length ? { bytes, starts: [0, bytes.length] } : null;
  if (count > limits.maxBatch) return null;
  const starts = new Array<number>(count + 1);
  for (let i = 0; i < count; i++) {
    starts[i] = pos;
    pos = scanner.value(bytes, pos, limits);
    if (pos < 0) return null;
  }
  starts[count] = pos;
  return pos === bytes.length ? { bytes, starts } : null;
}

/** Message i of a scanned frame, decoded the general way; a Refused if msgpackr cannot read it after all. */
export function decodeScanned(frame: ScannedFrame, i: number, limits: WireLimits): unknown {
  const start = frame.starts[i]!;
  const one = unpack(frame.bytes.subarray(start, frame.starts[i + 1]!));
  return one.ok ? one.value : refusedAt(frame.bytes, start, limits, NOT_MSGPACK);
}

function unpack(bytes: Uint8Array): Decoded {
  try {
    return { ok: true, value: unpackr.unpack(bytes) };
  } catch {
    return notMsgpack;
  }
}

/** The message at `pos`, refused with `error`, under its id if one can be found. */
function refusedAt(bytes: Uint8Array, pos: number, limits: WireLimits, error: ErrorData): Refused {
  const id = scanner.findId(bytes, pos, (scalar) => {
    try {
      return unpackr.unpack(scalar);
    } catch {
      return null;
    }
  });
  return new Refused(requestId(id, limits.maxKey), error);
}

function decodeText(frame: ArrayBuffer, limits: DecodeLimits): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(frame));
  } catch {
    return notJson;
  }
  if (!Array.isArray(value)) return { ok: true, value: checkedJson(value, limits) };
  if (value.length > limits.maxBatch) return batchTooLarge(value.length, limits.maxBatch);
  // In place: the array is this call's own.
  for (let i = 0; i < value.length; i++) value[i] = checkedJson(value[i], limits);
  return { ok: true, value };
}

function checkedJson(message: unknown, limits: WireLimits): unknown {
  const error = checkJson(message, limits, 0);
  if (error === null) return message;
  const id = message !== null && typeof message === 'object' ? (message as { id?: unknown }).id : undefined;
  return new Refused(requestId(id, limits.maxKey), error);
}

/**
 * An HTTP call's body: a JSON array of arguments, checked as a message's
 * `args` (level 2). Returns the arguments, or the error to answer.
 */
export function decodeJsonArgs(body: Buffer, limits: WireLimits): { readonly args: unknown[] } | { readonly error: ErrorData } {
  let args: unknown;
  try {
    args = body.byteLength === 0 ? [] : JSON.parse(body.toString('utf8'));
  } catch {
    args = undefined;
  }
  if (!Array.isArray(args)) return { error: { code: 'E_BAD_REQUEST', message: 'body must be a JSON array of arguments' } };
  const error = checkJson(args, limits, 1);
  return error === null ? { args } : { error };
}

/** One frame for a batch of outgoing messages: a lone message is sent bare, several as an array. */
export function encodeFrame(messages: readonly ServerMessage[], binary: boolean): Uint8Array | string {
  const encode = binary ? packMessages : stringifyMessages;
  try {
    return encode(messages.length === 1 ? messages[0] : messages);
  } catch {
    // A value that cannot be carried (not serializable, too deep for the encoder's stack) must not
    // lose the others' answers; and this runs in the gateway's flush, where a throw ends the process.
    const safe: ServerMessage[] = [];
    for (const m of messages) {
      const s = carried(m, encode);
      if (s !== null) safe.push(s);
    }
    return encode(safe.length === 1 ? safe[0] : safe);
  }
}

const packMessages = (v: unknown): Uint8Array | string => packr.pack(v);
const stringifyMessages = (v: unknown): Uint8Array | string => JSON.stringify(v, jsonSafe);

/** The message if it encodes; a failed result becomes an error, an event that cannot be carried is dropped. */
function carried(m: ServerMessage, encode: (v: unknown) => unknown): ServerMessage | null {
  try {
    encode(m);
    return m;
  } catch {
    if (m.op === 'result') return { op: 'error', id: m.id, code: 'E_ACTOR_FAILED', message: 'the result could not be encoded' };
    return null;
  }
}

/** JSON has no bigint or binary: send them in a readable form instead of failing the frame. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}
