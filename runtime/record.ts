/**
 * What the runtime keeps in an actor's grid record: its state and the results
 * of recent idempotent calls. Both travel in one value, so a dedup entry can
 * never be committed without the state change it describes, or vice versa.
 */
import { Packr } from 'msgpackr';
import type { TurnResult } from './pool/protocol.js';

/** [idem key, time applied (ms since epoch), result]. */
export type IdemEntry = [key: string, at: number, result: TurnResult];

export interface ActorRecordData {
  state: unknown;
  idem: IdemEntry[];
}

// Records must stay readable by any node and version: no msgpackr record extensions.
const packr = new Packr({ useRecords: false, moreTypes: true });

export function encodeRecord(r: ActorRecordData): Uint8Array {
  return packr.pack([r.state, r.idem]);
}

export function decodeRecord(data: Uint8Array): ActorRecordData {
  const [state, idem] = packr.unpack(data) as [unknown, IdemEntry[] | undefined];
  return { state, idem: idem ?? [] };
}

/**
 * Keys the node makes up for calls it forwards to another node (the caller
 * gave none): they only need to outlive a failover, not a client's retries.
 */
export const AUTO_IDEM_PREFIX = '~fwd:';
/** Entries with made-up keys younger than this are kept past the count limit. */
const AUTO_MIN_AGE_MS = 10_000;

export interface IdemRetention {
  /** Entries kept per actor once they are older than their minimum age. */
  readonly max: number;
  /** Entries older than this are dropped. */
  readonly ttlMs: number;
  /** Entries with the caller's own keys younger than this are kept past `max` (a saga resume or a retry may still come). */
  readonly minAgeMs: number;
  /** Never more than this many, whatever their age: bounds the record's size. */
  readonly hardMax: number;
}

/**
 * Applies the retention rules: age limit first, then the count limit, which
 * spares entries still within their minimum age, then the hard cap. Entries
 * are in the order applied, oldest first.
 *
 * What this guarantees: a call repeated with the same key is answered from
 * its stored result if it comes within `ttlMs`, and either within its minimum
 * age (while the actor has taken fewer than `hardMax` idempotent calls since)
 * or before the actor has taken `max` more idempotent calls.
 */
export function pruneIdem(idem: IdemEntry[], r: IdemRetention, now: number): IdemEntry[] {
  let start = 0;
  while (start < idem.length && now - idem[start]![1] > r.ttlMs) start++;
  let kept = idem.length - start;
  if (kept > r.max) {
    // Only entries past their minimum age may go for the count limit: oldest first, so stop at the first young one.
    while (kept > r.max && start < idem.length) {
      const [key, at] = idem[start]!;
      const minAge = key.startsWith(AUTO_IDEM_PREFIX) ? AUTO_MIN_AGE_MS : r.minAgeMs;
      if (now - at < minAge) break;
      start++;
      kept--;
    }
  }
  if (kept > r.hardMax) start = idem.length - r.hardMax;
  return start === 0 ? idem : idem.slice(start);
}
