import type { Socket } from 'node:net';
import { PREFIX_BYTES } from './frame-reader.js';

/** Largest msgpack array header (0xdd + uint32 count). */
export const ARRAY_HEADER_MAX = 5;

/** Room kept in front of each run of messages for the frame's length prefix and array header. */
const HEAD_ROOM = PREFIX_BYTES + ARRAY_HEADER_MAX;

/**
 * Messages up to this many bytes are copied in a loop, larger ones through a
 * view (Node 20 here: 15 bytes 26 ns by loop, 62 ns by view; 40 bytes 79 / 64 ns;
 * 73 bytes, a forwarded call, 141 / 60 ns). Results between nodes are ~15 bytes.
 */
const SMALL_COPY = 32;

/** Smallest buffer messages are copied into. */
const SLAB_BYTES = 64 * 1024;

export interface WriteResult {
  readonly frames: number;
  readonly bytes: number;
  /** Messages left out because they were bigger than the frame limit (queued before the peer told its limit). */
  readonly dropped: number;
}

/**
 * The messages encoded for one peer since its last flush, copied back to back
 * into one buffer of this queue, with room left in front for the frame's
 * prefix and header: a flush then writes a frame as one slice of that buffer,
 * with no per-message buffer object and no second copy (the queue used to
 * hold one Buffer per message and join them per frame, 2-3% of a forwarding
 * node's main thread). What is queued between two flushes stays contiguous,
 * so it leaves as one frame unless the peer's frame limit splits it: when the
 * buffer fills, the queued bytes move to one twice as big (amortised, like an
 * array's growth). A part handed to the socket is never written again: later
 * messages go after it, or to a new buffer.
 */
export class SendQueue {
  private buf: Buffer = Buffer.allocUnsafe(0);
  /** End of what is written into `buf`. */
  private pos = 0;
  /** Offset of the first queued message in `buf`; -1 while the queue is empty. */
  private first = -1;
  private lengths: number[] = [];
  bytes = 0;

  /** Messages queued. */
  get count(): number {
    return this.lengths.length;
  }

  /** Copies `src[start, end)`, one encoded message, to the end of the queue. */
  push(src: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (this.first < 0) {
      if (this.buf.length - this.pos < HEAD_ROOM + length) {
        this.buf = Buffer.allocUnsafe(Math.max(SLAB_BYTES, HEAD_ROOM + length));
        this.pos = 0;
      }
      this.first = this.pos + HEAD_ROOM;
      this.pos = this.first;
    } else if (this.buf.length - this.pos < length) {
      const from = this.first - HEAD_ROOM;
      const used = this.pos - from;
      const bigger = Buffer.allocUnsafe(Math.max(SLAB_BYTES, 2 * (used + length)));
      this.buf.copy(bigger, 0, from, this.pos);
      this.buf = bigger;
      this.first = HEAD_ROOM;
      this.pos = used;
    }
    const buf = this.buf;
    if (length <= SMALL_COPY) {
      // Byte by byte: a view to copy from costs more than copying these few bytes.
      for (let i = 0, at = this.pos; i < length; i++) buf[at + i] = src[start + i]!;
    } else {
      buf.set(src.subarray(start, end), this.pos);
    }
    this.pos += length;
    this.lengths.push(length);
    this.bytes += length;
  }

  /** Drops everything queued. */
  clear(): void {
    this.first = -1;
    this.lengths = [];
    this.bytes = 0;
  }

  /**
   * Writes everything queued as frames whose body (after the length prefix)
   * is at most `limit` bytes (the peer's frame limit), corked so they leave
   * in one writev, and empties the queue. A message that cannot fit a frame
   * alone is left out and counted in `dropped`.
   */
  writeTo(socket: Socket, limit: number): WriteResult {
    const { buf, lengths, first } = this;
    this.clear();
    let frames = 0;
    let bytes = 0;
    let dropped = 0;
    if (first < 0) return { frames, bytes, dropped };
    socket.cork();
    try {
      let offset = first;
      let i = 0;
      while (i < lengths.length) {
        if (ARRAY_HEADER_MAX + lengths[i]! > limit) {
          offset += lengths[i]!;
          i++;
          dropped++;
          continue;
        }
        const from = i;
        const start = offset;
        let body = ARRAY_HEADER_MAX;
        while (i < lengths.length && body + lengths[i]! <= limit) {
          body += lengths[i]!;
          offset += lengths[i]!;
          i++;
        }
        bytes += writeFrame(socket, buf, start, offset, i - from, start === first);
        frames++;
      }
    } finally {
      socket.uncork();
    }
    return { frames, bytes, dropped };
  }
}

/**
 * One frame of `count` messages, `buf[start, end)`. The first frame of a
 * flush writes its prefix and header into the room kept in front of it and
 * goes out as one slice; a later one (split at the frame limit) sends them apart.
 */
function writeFrame(socket: Socket, buf: Buffer, start: number, end: number, count: number, roomInFront: boolean): number {
  const headerBytes = count < 16 ? 1 : count < 0x10000 ? 3 : 5;
  const body = headerBytes + end - start;
  const head = roomInFront ? buf : Buffer.allocUnsafe(PREFIX_BYTES + headerBytes);
  const at = roomInFront ? start - headerBytes - PREFIX_BYTES : 0;
  head.writeUInt32BE(body, at);
  const h = at + PREFIX_BYTES;
  if (headerBytes === 1) head[h] = 0x90 | count;
  else if (headerBytes === 3) {
    head[h] = 0xdc;
    head.writeUInt16BE(count, h + 1);
  } else {
    head[h] = 0xdd;
    head.writeUInt32BE(count, h + 1);
  }
  if (roomInFront) socket.write(buf.subarray(at, end));
  else {
    socket.write(head);
    socket.write(buf.subarray(start, end));
  }
  return PREFIX_BYTES + body;
}
