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

/** `~fwd:<node>.<incarnation>/<seq>`: the sender's process and its call's sequence number. */
export function autoIdemKey(node: string, incarnation: string, seq: number): string {
  return `${AUTO_IDEM_PREFIX}${node}.${incarnation}/${seq}`;
}

/**
 * Drops made-up entries of one sending process whose sequence number is below
 * `ack`: that process has had their answers, so it will never send them again.
 * This keeps a hot actor's record small no matter how many calls are forwarded to it.
 */
export function dropAcknowledged(idem: IdemEntry[], key: string, ack: number): IdemEntry[] {
  const slash = key.lastIndexOf('/');
  if (!key.startsWith(AUTO_IDEM_PREFIX) || slash < 0) return idem;
  const sender = key.slice(0, slash + 1);
  let changed = false;
  const kept = idem.filter((e) => {
    if (!e[0].startsWith(sender)) return true;
    const drop = Number(e[0].slice(sender.length)) < ack;
    if (drop) changed = true;
    return !drop;
  });
  return changed ? kept : idem;
}
/**
 * Entries with made-up keys younger than this are kept past the count limit:
 * long enough for a forwarded call to be re-sent after its owner died (the
 * cluster test measures failover at 0.2-1 s), short enough that a hot actor's
 * record does not carry seconds of forwarded calls in every write.
 */
const AUTO_MIN_AGE_MS = 3_000;

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
