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

/** Drops entries past the age limit, then the oldest past the count limit. */
export function pruneIdem(idem: IdemEntry[], max: number, ttlMs: number, now: number): IdemEntry[] {
  let start = 0;
  while (start < idem.length && now - idem[start]![1] > ttlMs) start++;
  if (idem.length - start > max) start = idem.length - max;
  return start === 0 ? idem : idem.slice(start);
}
