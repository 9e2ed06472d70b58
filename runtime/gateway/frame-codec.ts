/**
 * Frames in and out of the gateway. Binary frames are msgpack, text frames
 * JSON; either holds one message or an array of them. Decoding failures come
 * back as data, never as exceptions, so one bad frame cannot hurt the socket.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { ServerMessage } from '../../protocol/wire.js';

// copyBuffers: binary args must outlive the frame, whose memory uWS reclaims after the handler returns.
const unpackr = new Unpackr({ useRecords: false, copyBuffers: true, mapsAsObjects: true });
const packr = new Packr({ useRecords: false });
const utf8 = new TextDecoder('utf-8', { fatal: true });

export type Decoded = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

export function decodeFrame(frame: ArrayBuffer, binary: boolean): Decoded {
  try {
    if (binary) return { ok: true, value: unpackr.unpack(new Uint8Array(frame)) };
    return { ok: true, value: JSON.parse(utf8.decode(frame)) };
  } catch {
    return { ok: false, message: binary ? 'binary frame is not valid msgpack' : 'text frame is not valid JSON' };
  }
}

/** One frame for a batch of outgoing messages: a lone message is sent bare, several as an array. */
export function encodeFrame(messages: readonly ServerMessage[], binary: boolean): Uint8Array | string {
  const value = messages.length === 1 ? messages[0] : messages;
  if (!binary) return JSON.stringify(value, jsonSafe);
  try {
    return packr.pack(value);
  } catch {
    // A value msgpack cannot carry still must not lose the others' answers.
    return packr.pack(messages.map((m) => (m.op === 'result' ? safeResult(m) : m)));
  }
}

function safeResult(m: ServerMessage & { op: 'result' }): ServerMessage {
  try {
    packr.pack(m.value);
    return m;
  } catch {
    return { op: 'error', id: m.id, code: 'E_ACTOR_FAILED', message: 'the result could not be encoded' };
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
