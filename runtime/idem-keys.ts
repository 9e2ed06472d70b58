/**
 * Idempotency keys: which the runtime makes up, and how long an actor keeps
 * the result of each.
 *
 * A key starting with `~` is the runtime's; clients may not send one (the
 * gateway refuses them), so none can collide with or prune a caller's key.
 *
 *   ~fwd:<node>.<incarnation>/<n>   a call this node forwarded without a key of
 *                                   the caller's (re-sent only after a failover)
 *   ~o:<sender>/<seq>               a tell from an actor's outbox: <sender> is a
 *                                   hash of the sending actor, <seq> its tell number
 *   ~s:<log>:<topic>:<partition>/<offset>
 *                                   a stream record (`~s:kafka:payments:3/1234`):
 *                                   the partition is the sender, the offset its number
 *   ~d:<turn>/<i>                   the i-th call made by a turn with a durable
 *                                   identity (a caller's key, a tell, a reminder):
 *                                   such a turn may run again much later
 *   ~e:<until>:<turn>/<i>           the i-th call made by a turn with a passing
 *                                   identity (a call without a key): it can only
 *                                   run again before its deadline, <until> (base 36)
 *
 * <turn> is a hash of the calling actor and its turn's identity, so the same
 * turn run again (after a version conflict, a crashed worker, a failover)
 * makes its calls with the same keys, and the callee answers them from its
 * record instead of applying them twice.
 */
import { createHash } from 'node:crypto';
import { RESERVED_IDEM_PREFIX } from '../protocol/wire.js';
import type { IdemEntry } from './record.js';

export const RESERVED_PREFIX = RESERVED_IDEM_PREFIX;
export const AUTO_IDEM_PREFIX = '~fwd:';
export const TELL_PREFIX = '~o:';
export const STREAM_PREFIX = '~s:';
const DURABLE_CALL_PREFIX = '~d:';
const PASSING_CALL_PREFIX = '~e:';

/** Margin past a turn's deadline for clocks that differ between nodes. */
export const PASSING_KEY_MARGIN_MS = 5_000;

/** `~fwd:<node>.<incarnation>/<seq>`: the sender's process and its call's sequence number. */
export function autoIdemKey(node: string, incarnation: string, seq: number): string {
  return `${autoIdemPrefix(node, incarnation)}${seq}`;
}

/** `~fwd:<node>.<incarnation>/`: the part of a forwarder's made-up keys that is the same for all its calls. */
export function autoIdemPrefix(node: string, incarnation: string): string {
  return `${AUTO_IDEM_PREFIX}${node}.${incarnation}/`;
}

/** 96 bits of SHA-256, URL-safe: short, and a collision needs ~2^48 identities. */
function shortHash(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\u0000');
  return h.digest('base64url').slice(0, 16);
}

/** The sender part of an actor's tell keys. */
export function senderId(type: string, key: string): string {
  return shortHash(type, key);
}

export function tellKey(sender: string, seq: number): string {
  return `${TELL_PREFIX}${sender}/${seq}`;
}

/**
 * Whether a turn with this identity may run again long after it first ran: a
 * caller's own key, a tell, a reminder. Turns of calls without a key, or with
 * keys this runtime made up for one delivery (`~fwd:`, `~e:`), only run again
 * before their deadline.
 */
export function isDurableTurn(turnKey: string): boolean {
  return !turnKey.startsWith(AUTO_IDEM_PREFIX) && !turnKey.startsWith(PASSING_CALL_PREFIX) && !turnKey.startsWith('~n:');
}

/** The deadline carried by a passing call key (0 for other keys). */
export function passingUntil(key: string): number {
  if (!key.startsWith(PASSING_CALL_PREFIX)) return 0;
  const end = key.indexOf(':', PASSING_CALL_PREFIX.length);
  return end < 0 ? 0 : parseInt(key.slice(PASSING_CALL_PREFIX.length, end), 36) || 0;
}

/** Keys for the calls one turn makes, in the order it makes them. */
export class CallKeys {
  private prefix: string | undefined;
  private next = 0;

  /** `keepUntil` matters only for passing turns: when their callers may forget the keys. */
  constructor(private readonly type: string, private readonly key: string, private readonly turnKey: string, private readonly keepUntil: number) {}

  take(): string {
    if (this.prefix === undefined) {
      const turn = shortHash(this.type, this.key, this.turnKey);
      if (isDurableTurn(this.turnKey)) this.prefix = `${DURABLE_CALL_PREFIX}${turn}/`;
      else {
        // A call this turn received may carry a later deadline than this turn's own (its caller's): keep the later one.
        const until = Math.max(this.keepUntil, passingUntil(this.turnKey));
        this.prefix = `${PASSING_CALL_PREFIX}${until.toString(36)}:${turn}/`;
      }
    }
    return this.prefix + this.next++;
  }
}

/**
 * A stream record's key, `~s:<log>:<topic>:<partition>/<offset>`, and the form
 * records had before (`<log>:<topic>:<partition>:<offset>`, not sequenced, so
 * every record's entry stayed until the retention rules dropped it: ~100 per
 * account in a 100,000-record burst, each a part of every write of the
 * record). A record read again across an upgrade may have been applied under
 * the old key: the actor looks for both.
 */
export function streamIdemKey(log: string, topic: string, partition: number, offset: string): string {
  return `${STREAM_PREFIX}${log}:${topic}:${partition}/${offset}`;
}

export function legacyStreamKey(key: string): string | undefined {
  if (!key.startsWith(STREAM_PREFIX)) return undefined;
  const slash = key.lastIndexOf('/');
  return slash < 0 ? undefined : `${key.slice(STREAM_PREFIX.length, slash)}:${key.slice(slash + 1)}`;
}

/** The sender part (`~o:<sender>/`, `~fwd:<node>.<inc>/`, `~s:<log>:<topic>:<partition>/`) and number of a sequenced key; undefined for other keys. */
function sequenced(key: string): { sender: string; seq: number } | undefined {
  if (!key.startsWith(TELL_PREFIX) && !key.startsWith(AUTO_IDEM_PREFIX) && !key.startsWith(STREAM_PREFIX)) return undefined;
  const slash = key.lastIndexOf('/');
  if (slash < 0 || slash === key.length - 1) return undefined;
  const seq = Number(key.slice(slash + 1));
  return Number.isSafeInteger(seq) ? { sender: key.slice(0, slash + 1), seq } : undefined;
}

/**
 * Sequenced keys (tells `~o:`, forwarded calls `~fwd:`, stream records `~s:`)
 * come with `ack`: the lowest number their sender may still send again. Below
 * it, the sender has its answers (`~fwd:`), has removed the tells from its
 * committed outbox after their targets acknowledged them (`~o:`), or has the
 * partition's offset committed, which it does only once every record before
 * it was answered (`~s:`). So the actor keeps, per
 * sender, a mark: the highest `ack` it has seen (an entry whose key is the
 * sender part, ending in `/`, and whose result holds the mark). Then:
 *
 * - entries of that sender below the mark are dropped: this keeps a hot
 *   actor's record small however many tells and calls reach it;
 * - a message of that sender numbered below the mark is a duplicate, even
 *   when its own entry is gone: a node with an older view of the sender
 *   (while two nodes' views differ) may still deliver a tell the sender's
 *   owner has long had acknowledged. It is answered without a turn;
 * - so is a message numbered below its own `ack`: its sender says it has
 *   that one acknowledged, so this is a stale re-send (a delivery retry that
 *   outlived the record it was read from, sent with the ack of a newer one).
 *   Applied, it would apply twice: moving the mark just dropped its entry.
 *   The chaos suite saw exactly that (a relayed amount added twice after the
 *   sender's owner was fenced and another node delivered its outbox).
 *
 * Returns the entries to keep and whether the message is such a duplicate.
 */
export function applySenderAck(idem: IdemEntry[], key: string, ack: number, now: number): { idem: IdemEntry[]; duplicate: boolean } {
  const s = sequenced(key);
  if (s === undefined) return { idem, duplicate: false };
  let markAt = -1;
  for (let i = idem.length - 1; i >= 0; i--) {
    if (idem[i]![0] === s.sender) {
      markAt = i;
      break;
    }
  }
  const mark = markAt < 0 ? -1 : (idem[markAt]![2][1] as number);
  if (s.seq < mark) return { idem, duplicate: true };
  if (ack <= mark) return { idem, duplicate: false };
  const kept = idem.filter((e, i) => {
    if (i === markAt || !e[0].startsWith(s.sender)) return i !== markAt;
    return !(Number(e[0].slice(s.sender.length)) < ack);
  });
  // The mark moves to the end: entries are kept in the order last touched, oldest first.
  kept.push([s.sender, now, [1, ack]]);
  return { idem: kept, duplicate: s.seq < ack };
}

/**
 * Entries with made-up keys of forwarded calls younger than this are kept
 * past the count limit: long enough for a forwarded call to be re-sent after
 * its owner died (the cluster test measures failover at 0.2-1 s), short
 * enough that a hot actor's record does not carry seconds of forwarded calls.
 */
const AUTO_MIN_AGE_MS = 3_000;

export interface IdemRetention {
  /** Entries kept per actor once they are past their minimum age. */
  readonly max: number;
  /** Entries older than this are dropped. */
  readonly ttlMs: number;
  /** Entries with durable keys younger than this are kept past `max` (a saga resume, a retry, a redelivered tell may still come). */
  readonly minAgeMs: number;
  /** Never more than this many, whatever their age: bounds the record's size. */
  readonly hardMax: number;
}

/** Until when an entry is spared by the count limit. */
function sparedUntil(key: string, at: number, r: IdemRetention): number {
  // A sender's mark (see applySenderAck) is small and guards against late duplicates: kept as long as callers' keys.
  if (key.endsWith('/')) return at + r.minAgeMs;
  if (key.startsWith(AUTO_IDEM_PREFIX)) return at + AUTO_MIN_AGE_MS;
  if (key.startsWith(PASSING_CALL_PREFIX)) return passingUntil(key) + PASSING_KEY_MARGIN_MS;
  return at + r.minAgeMs;
}

/**
 * Applies the retention rules: age limit first, then the count limit, which
 * spares entries still within their minimum age, then the hard cap. Entries
 * are in the order applied, oldest first.
 *
 * What this guarantees: a call repeated with the same key is answered from
 * its stored result if it comes within `ttlMs`, and either while it is spared
 * (within its minimum age, or before the deadline a passing key carries;
 * while the actor has taken fewer than `hardMax` idempotent calls since) or
 * before the actor has taken `max` more idempotent calls.
 */
export function pruneIdem(idem: IdemEntry[], r: IdemRetention, now: number): IdemEntry[] {
  let start = 0;
  while (start < idem.length && now - idem[start]![1] > r.ttlMs) start++;
  let kept = idem.length - start;
  // Only entries no longer spared may go for the count limit: oldest first, so stop at the first spared one.
  while (kept > r.max && start < idem.length) {
    const [key, at] = idem[start]!;
    if (now < sparedUntil(key, at, r)) break;
    start++;
    kept--;
  }
  if (kept > r.hardMax) start = idem.length - r.hardMax;
  return start === 0 ? idem : idem.slice(start);
}
