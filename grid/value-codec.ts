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
