import { randomBytes } from 'node:crypto';
import type { WakeMark } from './wake-index.js';

/**
 * A wake entry's value as bytes: the due time (8-byte big-endian double)
 * then an 8-byte tag, unique per write (a random 21-bit prefix per process
 * and a 32-bit counter, held as one safe integer), so engines can
 * compare-and-set and compare-and-remove on bytes, and a node keeps a mark
 * as two numbers.
 */
const prefix = randomBytes(4).readUInt32BE(0) & 0x1f_ffff;
let counter = 0;

export const WAKE_MARK_BYTES = 16;

export function newMark(due: number): { mark: WakeMark; bytes: Buffer } {
  counter = (counter + 1) >>> 0;
  const mark = { due, tag: prefix * 2 ** 32 + counter };
  return { mark, bytes: markBytes(mark) };
}

export function markBytes(mark: WakeMark): Buffer {
  const bytes = Buffer.allocUnsafe(WAKE_MARK_BYTES);
  bytes.writeDoubleBE(mark.due, 0);
  bytes.writeUInt32BE(Math.floor(mark.tag / 2 ** 32), 8);
  bytes.writeUInt32BE(mark.tag >>> 0, 12);
  return bytes;
}

export function readMark(bytes: Uint8Array): WakeMark | undefined {
  if (bytes.byteLength !== WAKE_MARK_BYTES) return undefined;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { due: b.readDoubleBE(0), tag: b.readUInt32BE(8) * 2 ** 32 + b.readUInt32BE(12) };
}
