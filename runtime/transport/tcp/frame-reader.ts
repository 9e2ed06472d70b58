import { LinkError } from './link-errors.js';

/** Bytes of the length prefix in front of every frame (big-endian uint32). */
export const PREFIX_BYTES = 4;

/**
 * Cuts a TCP byte stream into length-prefixed frames.
 *
 * The limit is checked as soon as a prefix is readable, before any of the
 * body is waited for or copied: a stranger announcing 4 GB costs us 4 bytes.
 * Whole frames inside one socket chunk are handed out as views of that chunk
 * (no copy); the decoder copies binary values (`copyBuffers`), so nothing
 * keeps the chunk alive after delivery. A frame split across chunks is
 * joined once, when its last byte arrives.
 *
 * `limit` may change between frames (the handshake uses a small one), and
 * `onFrame` may call `stop()`; the rest of the chunk is then ignored.
 */
export class FrameReader {
  limit: number;
  private parts: Buffer[] = [];
  private buffered = 0;
  private stopped = false;

  constructor(limit: number, private readonly onFrame: (body: Buffer) => void) {
    this.limit = limit;
  }

  stop(): void {
    this.stopped = true;
    this.parts = [];
    this.buffered = 0;
  }

  /** Throws LINK_FRAME_TOO_LARGE when a prefix exceeds the limit. */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.buffered === 0) {
      this.consume(chunk);
      return;
    }
    this.parts.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < PREFIX_BYTES) return;
    const head = this.parts[0]!.length >= PREFIX_BYTES ? this.parts[0]! : Buffer.concat(this.parts, PREFIX_BYTES);
    const length = this.check(head.readUInt32BE(0));
    if (this.buffered < PREFIX_BYTES + length) return;
    const joined = Buffer.concat(this.parts, this.buffered);
    this.parts = [];
    this.buffered = 0;
    this.consume(joined);
  }

  private consume(data: Buffer): void {
    let offset = 0;
    while (!this.stopped && data.length - offset >= PREFIX_BYTES) {
      const length = this.check(data.readUInt32BE(offset));
      const end = offset + PREFIX_BYTES + length;
      if (end > data.length) break;
      const body = data.subarray(offset + PREFIX_BYTES, end);
      offset = end;
      this.onFrame(body);
    }
    if (!this.stopped && offset < data.length) {
      const rest = data.subarray(offset);
      this.parts.push(rest);
      this.buffered = rest.length;
    }
  }

  private check(length: number): number {
    if (length > this.limit) {
      this.stop();
      throw new LinkError('LINK_FRAME_TOO_LARGE', `frame of ${length} bytes announced, limit is ${this.limit}`);
    }
    return length;
  }
}
