import type { VersionedRecord } from '../grid.js';

/**
 * How an actor record is stored in its IMap: one byte[] holding an 8-byte
 * big-endian version followed by the opaque data. Keeping the version inside
 * the value (not in a second map or an EntryView) is what lets one
 * `replace(key, old, new)` compare version and data in a single atomic step on
 * the member.
 */
export const HEADER_BYTES = 8;

export function encodeRecord(version: number, data: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + data.byteLength);
  buf.writeBigUInt64BE(BigInt(version), 0);
  buf.set(data, HEADER_BYTES);
  return buf;
}

export function versionOf(stored: Buffer): number {
  return Number(stored.readBigUInt64BE(0));
}

/** Decodes a stored value; the data is a copy, so callers cannot alter bytes we still compare against. */
export function decodeRecord(stored: Buffer): VersionedRecord {
  if (stored.byteLength < HEADER_BYTES) throw new Error(`stored actor record is ${stored.byteLength} bytes, shorter than its version header`);
  return { version: versionOf(stored), data: new Uint8Array(stored.subarray(HEADER_BYTES)) };
}
