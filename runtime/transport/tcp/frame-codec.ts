/**
 * Frames on a link: a 4-byte big-endian length, then msgpack. A data frame
 * is a msgpack array of messages; a zero-length frame is a heartbeat.
 *
 * Each message is encoded once, in `send()`, into a buffer the link owns, and
 * a frame is an array header followed by those encodings back to back (a
 * valid msgpack array). Encoding at send time tells the caller at once when
 * a message can never fit a frame, bounds queues in bytes, and makes the
 * sent value a snapshot (mutating it after `send()` changes nothing).
 *
 * Why copy what msgpackr returns: its result is a view of a buffer shared by
 * every Packr in the process, and `Packr#useBuffer` (the client SDK's codec
 * calls it) rewinds that buffer, so a view kept across ticks could be
 * overwritten by someone else's next encode.
 */
import type { Socket } from 'node:net';
import { Packr } from 'msgpackr';
import { LinkError } from './link-errors.js';
import { PREFIX_BYTES } from './frame-reader.js';

/** Largest msgpack array header (0xdd + uint32 count). */
export const ARRAY_HEADER_MAX = 5;

/** Batches whose body is at most this big are joined into one buffer; larger ones go out as a writev. */
const JOIN_BELOW = 256 * 1024;

export const HEARTBEAT_FRAME: Buffer = Buffer.alloc(PREFIX_BYTES);

/** The one codec of a transport. Record extension off both ways: it is msgpackr-only state that must never ride a link. */
export class MessageCodec {
  private readonly packr = new Packr({ useRecords: false, moreTypes: true, copyBuffers: true, mapsAsObjects: true });

  /** One message to bytes the caller owns. Throws (a TypeError from msgpackr) for values msgpack cannot carry. */
  encode(message: unknown): Buffer {
    return Buffer.from(this.packr.pack(message));
  }

  /** A handshake message or any single value, framed. */
  frame(value: unknown): Buffer {
    const body = this.packr.pack(value);
    const out = Buffer.allocUnsafe(PREFIX_BYTES + body.length);
    out.writeUInt32BE(body.length, 0);
    out.set(body, PREFIX_BYTES);
    return out;
  }

  decode(body: Buffer): unknown {
    try {
      return this.packr.unpack(body);
    } catch (err) {
      throw new LinkError('LINK_BAD_FRAME', 'frame is not valid msgpack', { cause: err });
    }
  }

  /** A data frame's messages; anything but an array is a protocol error. */
  decodeBatch(body: Buffer): unknown[] {
    const value = this.decode(body);
    if (!Array.isArray(value)) throw new LinkError('LINK_BAD_FRAME', 'data frame is not an array of messages');
    return value;
  }
}

function arrayHeader(count: number): Buffer {
  if (count < 16) return Buffer.of(0x90 | count);
  if (count < 0x10000) return Buffer.of(0xdc, count >> 8, count & 0xff);
  const h = Buffer.allocUnsafe(5);
  h[0] = 0xdd;
  h.writeUInt32BE(count, 1);
  return h;
}

export interface WriteResult {
  readonly frames: number;
  readonly bytes: number;
}

/**
 * Writes encoded messages as as few frames as `limit` (the peer's frame
 * limit) allows, corked so a batch leaves in one writev. Every message must
 * fit alone (`send()` checks), so a frame is never empty.
 */
export function writeBatch(socket: Socket, messages: readonly Buffer[], limit: number): WriteResult {
  let frames = 0;
  let bytes = 0;
  socket.cork();
  try {
    let start = 0;
    while (start < messages.length) {
      let end = start;
      let body = ARRAY_HEADER_MAX;
      while (end < messages.length && (end === start || body + messages[end]!.length <= limit)) {
        body += messages[end]!.length;
        end++;
      }
      bytes += writeFrame(socket, messages, start, end);
      frames++;
      start = end;
    }
  } finally {
    socket.uncork();
  }
  return { frames, bytes };
}

function writeFrame(socket: Socket, messages: readonly Buffer[], start: number, end: number): number {
  const header = arrayHeader(end - start);
  let body = header.length;
  for (let i = start; i < end; i++) body += messages[i]!.length;
  const prefix = Buffer.allocUnsafe(PREFIX_BYTES);
  prefix.writeUInt32BE(body, 0);
  if (body <= JOIN_BELOW) {
    const parts: Buffer[] = [prefix, header];
    for (let i = start; i < end; i++) parts.push(messages[i]!);
    socket.write(Buffer.concat(parts, PREFIX_BYTES + body));
  } else {
    // Big payloads: no extra copy, the kernel gathers the pieces.
    socket.write(prefix);
    socket.write(header);
    for (let i = start; i < end; i++) socket.write(messages[i]!);
  }
  return PREFIX_BYTES + body;
}
