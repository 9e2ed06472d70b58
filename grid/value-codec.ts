/**
 * How hot-data values are stored in every engine. msgpackr's top-level
 * pack/unpack use its record extension, whose structure ids only decode in
 * the process (and order) they were written in: stored values that another
 * node, or a later read, must decode have to be plain msgpack.
 */
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: false, moreTypes: true });

/** Encodes a value as a Buffer that owns its bytes (msgpackr returns views into a shared buffer). */
export function encodeValue(value: unknown): Buffer {
  return Buffer.from(packr.pack(value));
}

export function decodeValue(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/**
 * A value written under a lock (a fenced write) keeps the writer's fencing
 * token: 0xC1 (a byte msgpack never uses, so no plain value starts with it),
 * the token as an 8-byte big-endian double, then the value.
 */
const FENCED = 0xc1;

export function encodeFenced(value: unknown, token: number): Buffer {
  const body = packr.pack(value);
  const out = Buffer.allocUnsafe(9 + body.byteLength);
  out[0] = FENCED;
  out.writeDoubleBE(token, 1);
  out.set(body, 9);
  return out;
}

/** The stored value and the token it was written under (0 for an unfenced write). */
export function decodeStored(bytes: Uint8Array): { value: unknown; fence: number } {
  if (bytes.byteLength >= 9 && bytes[0] === FENCED) {
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { value: packr.unpack(b.subarray(9)), fence: b.readDoubleBE(1) };
  }
  return { value: packr.unpack(bytes), fence: 0 };
}

/** The token a stored value was written under, without decoding the value. */
export function fenceOf(bytes: Uint8Array): number {
  return bytes.byteLength >= 9 && bytes[0] === FENCED ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readDoubleBE(1) : 0;
}
