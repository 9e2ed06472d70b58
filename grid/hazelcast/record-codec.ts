import { randomBytes } from 'node:crypto';
import type { VersionedRecord } from '../grid.js';

/**
 * How an actor record is stored in its IMap: one byte[] holding an 8-byte
 * big-endian version, an 8-byte write id, then the opaque data. Keeping the
 * version inside the value (not in a second map or an EntryView) is what lets
 * one `replace(key, old, new)` compare version and data in a single atomic
 * step on the member.
 *
 * The write id makes every write's bytes unique. A write that finds exactly
 * its own bytes stored (its reply was lost and it was replayed) counts as a
 * success; without the id, two nodes applying different calls that happen to
 * produce the same state at the same version (two add(1) on 5) would both
 * "succeed" and one update would be lost.
 */
export const HEADER_BYTES = 16;

// 4 random bytes per process and a 32-bit counter: unique across writers and retries.
const writerPrefix = randomBytes(4).readUInt32BE(0);
let writeCounter = 0;

export function encodeRecord(version: number, data: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + data.byteLength);
  buf.writeBigUInt64BE(BigInt(version), 0);
  buf.writeUInt32BE(writerPrefix, 8);
  writeCounter = (writeCounter + 1) >>> 0;
  buf.writeUInt32BE(writeCounter, 12);
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
