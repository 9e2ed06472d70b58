/**
 * Frames on a link: a 4-byte big-endian length, then msgpack. A data frame
 * is a msgpack array of messages; a zero-length frame is a heartbeat.
 *
 * Each message is encoded once, in `send()`, and copied at once into its
 * peer's SendQueue (send-queue.ts), and a frame is an array header followed
 * by those encodings back to back (a valid msgpack array). Encoding at send
 * time tells the caller at once when a message can never fit a frame, bounds
 * queues in bytes, and makes the sent value a snapshot (mutating it after
 * `send()` changes nothing).
 *
 * Why copy what msgpackr returns at once: its buffer is shared by every
 * Packr in the process, and `Packr#useBuffer` (the client SDK's codec calls
 * it) rewinds it, so bytes left there across ticks could be overwritten by
 * someone else's next encode.
 */
import { Packr, RESET_BUFFER_MODE, REUSE_BUFFER_MODE } from 'msgpackr';
import { LinkError } from './link-errors.js';
import { PREFIX_BYTES } from './frame-reader.js';

export const HEARTBEAT_FRAME: Buffer = Buffer.alloc(PREFIX_BYTES);

/** What `encodeTransient` hands back: msgpackr's own buffer, the message at `[start, end)`. */
export type TransientBytes = Buffer & { readonly start: number; readonly end: number };

/** The one codec of a transport. Record extension off both ways: it is msgpackr-only state that must never ride a link. */
export class MessageCodec {
  private readonly packr = new Packr({ useRecords: false, moreTypes: true, copyBuffers: true, mapsAsObjects: true });

  /**
   * One message, left in msgpackr's buffer: no buffer object is made for it,
   * and the space is used again by the next encode (RESET_BUFFER_MODE), so the
   * caller must copy `[start, end)` before anything else encodes. Throws (a
   * TypeError from msgpackr) for values msgpack cannot carry.
   */
  encodeTransient(message: unknown): TransientBytes {
    return this.packr.pack(message, REUSE_BUFFER_MODE | RESET_BUFFER_MODE) as TransientBytes;
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
