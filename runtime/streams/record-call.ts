/**
 * One stream record as a call: key → actor key, value (JSON) → the single
 * argument, position → idempotency key. Engine-neutral: Kafka hands in its
 * fields, another log would hand in its own.
 */
import { streamIdemKey } from '../idem-keys.js';
import type { CallRequest } from '../router.js';
import type { StreamSpec } from './stream-spec.js';

export interface StreamRecord {
  readonly topic: string;
  readonly partition: number;
  /** The record's offset, as text: Kafka offsets are 64-bit. */
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

export type RecordCall = { readonly call: CallRequest } | { readonly skip: string };

/**
 * `~s:kafka:<topic>:<partition>/<offset>` names one record for ever (a topic's
 * offsets are never reused), so the same record read again, on any node, is
 * the same call. A sequenced key (runtime/idem-keys.ts): with the partition's
 * committed offset as `ack`, the actor keeps one mark per partition instead of
 * an entry per record.
 */
export function idemKeyOf(r: StreamRecord): string {
  return streamIdemKey('kafka', r.topic, r.partition, r.offset);
}

/**
 * `ack`: the partition's committed offset as this reader knows it (every
 * record below it was answered), -1 when it knows none yet, or when it is past
 * what a number holds exactly (the key is then an ordinary one).
 */
export function recordCall(spec: StreamSpec, r: StreamRecord, timeoutMs: number, ack = -1): RecordCall {
  if (r.key === null || r.key.length === 0) return { skip: 'the record has no key (it names the actor)' };
  if (r.value === null) return { skip: 'the record has no value (a tombstone)' };
  let arg: unknown;
  try {
    arg = JSON.parse(r.value.toString('utf8'));
  } catch (err) {
    return { skip: `the value is not JSON: ${(err as Error).message}` };
  }
  const call: CallRequest = { type: spec.type, key: r.key.toString('utf8'), method: spec.method, args: [arg], idem: idemKeyOf(r), caller: `stream:${spec.topic}`, timeoutMs };
  return { call: Number.isSafeInteger(ack) && ack >= 0 ? { ...call, ack } : call };
}
