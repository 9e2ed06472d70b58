/**
 * What nodes say to each other over their links (the transport only moves
 * opaque values). Tuples with a numeric tag keep frames small: links carry
 * every forwarded call.
 */
import type { TurnResult } from '../pool/protocol.js';
import { isTraceparent } from '../../protocol/traceparent.js';

export const enum LinkTag {
  Call = 0,
  Tell = 1,
  Result = 2,
  Event = 3,
  Interest = 4,
}

/**
 * A call for an actor this node does not own. `idem` is always set: re-sending
 * after a link failure must be safe. `ack` is the lowest sequence number the
 * key's sender may still send again (-1: none), see runtime/idem-keys.ts.
 * `traceparent`, the W3C context of the sender's span, is there only when
 * the call is traced: an untraced call's frame is the same ten elements.
 */
export type LinkCall = [tag: LinkTag.Call, id: number, type: string, key: string, method: string, args: readonly unknown[], idem: string, caller: string | null, ttlMs: number, ack: number, traceparent?: string];
export type LinkTell = [tag: LinkTag.Tell, type: string, key: string, method: string, args: readonly unknown[], caller: string | null, traceparent?: string];
export type LinkResult = [tag: LinkTag.Result, id: number, result: TurnResult];
/** An event committed on the sender: `from` is the publishing actor, `seq` its number for this topic. */
export type LinkEvent = [tag: LinkTag.Event, topic: string, data: unknown, from: string, seq: number];
/** The sender's full set of topics with local subscribers (sent on link up and on every change). */
export type LinkInterest = [tag: LinkTag.Interest, topics: readonly string[]];

export type LinkMessage = LinkCall | LinkTell | LinkResult | LinkEvent | LinkInterest;

/** Peers are authenticated, but a malformed message must still not crash the node. */
export function isLinkMessage(v: unknown): v is LinkMessage {
  if (!Array.isArray(v) || v.length < 2) return false;
  switch (v[0]) {
    case LinkTag.Call:
      return (v.length === 10 || (v.length === 11 && isTraceparent(v[10]))) && typeof v[9] === 'number' && typeof v[1] === 'number' && typeof v[2] === 'string' && typeof v[3] === 'string' && typeof v[4] === 'string' && Array.isArray(v[5]) && typeof v[6] === 'string' && typeof v[8] === 'number';
    case LinkTag.Tell:
      return (v.length === 6 || (v.length === 7 && isTraceparent(v[6]))) && typeof v[1] === 'string' && typeof v[2] === 'string' && typeof v[3] === 'string' && Array.isArray(v[4]);
    case LinkTag.Result:
      return v.length === 3 && typeof v[1] === 'number' && Array.isArray(v[2]);
    case LinkTag.Event:
      return v.length === 5 && typeof v[1] === 'string' && typeof v[3] === 'string' && typeof v[4] === 'number';
    case LinkTag.Interest:
      return v.length === 2 && Array.isArray(v[1]);
    default:
      return false;
  }
}
