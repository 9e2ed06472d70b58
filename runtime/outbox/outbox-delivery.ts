/**
 * Delivers committed tells from actors' outboxes, at least once each, with a
 * key the target remembers (`~o:<sender>/<seq>`), so each takes effect once.
 *
 * - A tell goes out as a call with that key and the sender's lowest
 *   unacknowledged number (`ack`), so the target can forget this sender's
 *   older keys. Its answer is the acknowledgement.
 * - An answer that says the target cannot take it now (E_TIMEOUT,
 *   E_UNAVAILABLE, E_OVERLOADED) sends it again after a backoff with jitter,
 *   for as long as this node owns the sender; the tell stays in the outbox
 *   meanwhile, counted in /metrics.
 * - An answer that can never change (the target type or method does not
 *   exist, the arguments are refused) ends it: logged and counted, then
 *   acknowledged like a delivered one. A handler that threw has had its
 *   turn: the tell counts as delivered.
 * - When the sender moves to another node, its tells are that node's to
 *   deliver (it reads them from the record); deliveries under way here
 *   finish, but their acknowledgements are dropped.
 */
import type { ErrorCode } from '../../protocol/errors.js';
import type { ReplySink } from '../envelope.js';
import { FAILPOINTS_ON, failpoint } from '../failpoints.js';
import { tellKey } from '../idem-keys.js';
import { traceFields, type Logger } from '../log.js';
import type { OutboxEntry } from '../record.js';
import type { TurnResult } from '../pool/protocol.js';
import type { CallRequest } from '../router.js';
import type { Activation } from '../turns/activation.js';

/** Answers after which a tell is sent again. */
// E_VERSION: the target's record is newer than the code on its node (a rolling update); it is served once that node is updated.
const RETRY_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['E_TIMEOUT', 'E_UNAVAILABLE', 'E_OVERLOADED', 'E_VERSION']);
/** Answers that end a tell without its effect: it can never be delivered as it is. */
const UNDELIVERABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['E_UNKNOWN_ACTOR', 'E_UNKNOWN_METHOD', 'E_BAD_REQUEST', 'E_TOO_LARGE', 'E_UNAUTHORIZED']);
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 5_000;

export interface OutboxDeliveryOptions {
  /** Routes a call: to the local scheduler or the owner's node. */
  readonly route: (req: CallRequest, sink: ReplySink) => void;
  /** Whether this activation is still the live one of a sender this node owns. */
  readonly current: (act: Activation) => boolean;
  /** The target acknowledged the tell (or it can never be delivered). */
  readonly acknowledged: (act: Activation, seq: number) => void;
  readonly callTimeoutMs: number;
  readonly log: Logger;
}

export class OutboxDelivery {
  /** Tells being delivered now, for /metrics. */
  pending = 0;
  delivered = 0;
  retries = 0;
  undeliverable = 0;
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly o: OutboxDeliveryOptions) {}

  /** Starts delivering these committed tells of `act` (those not under way already). */
  deliver(act: Activation, entries: readonly OutboxEntry[]): void {
    for (const entry of entries) {
      if (act.delivering.has(entry[0])) continue;
      act.delivering.add(entry[0]);
      this.pending++;
      this.send(act, entry, 0);
    }
  }

  private send(act: Activation, entry: OutboxEntry, attempt: number): void {
    const [seq, type, key, method, args, caller, traceparent] = entry;
    const sink: ReplySink = { deliver: (_id, result) => this.answered(act, entry, attempt, result) };
    const req: CallRequest = { type, key, method, args, caller, idem: tellKey(act.senderId, seq), ack: act.outboxLow, timeoutMs: this.o.callTimeoutMs };
    this.o.route(traceparent === undefined ? req : { ...req, traceparent }, sink);
  }

  private answered(act: Activation, entry: OutboxEntry, attempt: number, result: TurnResult): void {
    const seq = entry[0];
    if (this.closed || !this.o.current(act)) {
      this.finished(act, seq);
      return;
    }
    if (result[0] === 0 && RETRY_CODES.has(result[1].code)) {
      this.retries++;
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random());
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        // Below the outbox's low mark: the record this node holds now (reloaded meanwhile, say after a
        // fence) no longer has this tell; someone delivered it. Sending it again would carry an ack
        // above its own number, which targets now refuse as stale (idem-keys.ts), so just let it go.
        if (this.closed || !this.o.current(act) || seq < act.outboxLow) this.finished(act, seq);
        else this.send(act, entry, attempt + 1);
      }, delay);
      timer.unref();
      this.timers.add(timer);
      return;
    }
    if (result[0] === 0 && UNDELIVERABLE_CODES.has(result[1].code)) {
      this.undeliverable++;
      this.o.log.log('warn', 'tell_undeliverable', { from: act.type, fromKey: act.key, to: entry[1], toKey: entry[2], method: entry[3], code: result[1].code, message: result[1].message, ...traceFields([entry[6]]) });
    } else {
      this.delivered++;
    }
    if (FAILPOINTS_ON) failpoint('after-delivery');
    this.finished(act, seq);
    this.o.acknowledged(act, seq);
  }

  private finished(act: Activation, seq: number): void {
    if (act.delivering.delete(seq)) this.pending--;
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
