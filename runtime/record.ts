/**
 * What the runtime keeps in an actor's grid record. Everything a turn changes
 * travels in one value, so no part of a turn's effect can be committed
 * without the rest:
 *
 *   state       the actor's data
 *   idem        results of recent idempotent calls (see idem-keys.ts)
 *   outSeq      the last sequence number given to one of its tells
 *   outbox      tells committed but not yet acknowledged by their targets
 *   reminders   its durable reminders
 *   pubs        per topic, the sequence number of the last event it published
 *   version     the state version of the code that wrote it (the class's
 *               static version; 1 when absent, so older records read as 1)
 *
 * Encoded as a msgpack array whose trailing empty parts are left out, so a
 * plain actor's record is the same bytes as before the outbox existed, and
 * records written by older nodes still decode.
 */
import { Packr } from 'msgpackr';
import type { TurnResult } from './pool/protocol.js';

/** [idem key, time applied (ms since epoch), result]. */
export type IdemEntry = [key: string, at: number, result: TurnResult];

/** One tell waiting for its target's acknowledgement: [seq, type, key, method, args, caller]. */
/** `traceparent`: the context of the traced turn that made the tell; absent when untraced (older records never have it). */
export type OutboxEntry = [seq: number, type: string, key: string, method: string, args: unknown[], caller: string | null, traceparent?: string];

/** One durable reminder: [name, due (epoch ms), every (ms, 0: once), method, args]. */
export type Reminder = [name: string, due: number, every: number, method: string, args: unknown[]];

/** [topic, sequence number of the last event published on it]. */
export type PubSeq = [topic: string, seq: number];

export interface ActorRecordData {
  state: unknown;
  idem: IdemEntry[];
  outSeq: number;
  outbox: OutboxEntry[];
  reminders: Reminder[];
  pubs: PubSeq[];
  version: number;
}

// Records must stay readable by any node and version: no msgpackr record extensions.
const packr = new Packr({ useRecords: false, moreTypes: true });

/** A record with nothing but state (a new actor, tests). */
export function plainRecord(state: unknown): ActorRecordData {
  return { state, idem: [], outSeq: 0, outbox: [], reminders: [], pubs: [], version: 1 };
}

export function encodeRecord(r: Pick<ActorRecordData, 'state' | 'idem'> & Partial<ActorRecordData>): Uint8Array {
  const { outSeq = 0, outbox = [], reminders = [], pubs = [], version = 1 } = r;
  if (version !== 1) return packr.pack([r.state, r.idem, outSeq, outbox, reminders, pubs, version]);
  if (outSeq === 0 && reminders.length === 0 && pubs.length === 0) return packr.pack([r.state, r.idem]);
  if (reminders.length === 0 && pubs.length === 0) return packr.pack([r.state, r.idem, outSeq, outbox]);
  if (pubs.length === 0) return packr.pack([r.state, r.idem, outSeq, outbox, reminders]);
  return packr.pack([r.state, r.idem, outSeq, outbox, reminders, pubs]);
}

export function decodeRecord(data: Uint8Array): ActorRecordData {
  const [state, idem, outSeq, outbox, reminders, pubs, version] = packr.unpack(data) as [
    unknown, IdemEntry[] | undefined, number | undefined, OutboxEntry[] | undefined, Reminder[] | undefined, PubSeq[] | undefined, number | undefined,
  ];
  return { state, idem: idem ?? [], outSeq: outSeq ?? 0, outbox: outbox ?? [], reminders: reminders ?? [], pubs: pubs ?? [], version: version ?? 1 };
}
