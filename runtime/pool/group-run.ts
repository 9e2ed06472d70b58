/**
 * One actor's turns in one task, run strictly one after another against the
 * record read from the grid; the group returns the new record to commit and
 * the effects to send once it is committed.
 *
 * Turns run synchronously while handlers return plain values; the first
 * handler that returns a promise moves the rest of the group onto the async
 * path. Most turns never pay for a promise.
 *
 * Every part of a turn's effect lands in the record together or not at all:
 * its state, its idempotency result, its tells (appended to the outbox with
 * their sequence numbers), its reminder changes and its event numbers. A turn
 * that throws leaves all of them as they were.
 */
import { Packr } from 'msgpackr';
import { ACTOR_CONTEXT, migrateState } from '../../actors/index.js';
import { Errors, toErrorData } from '../../protocol/errors.js';
import type { ActorType } from '../actor-registry.js';
import { FAILPOINTS_ON, failpoint } from '../failpoints.js';
import { applySenderAck, legacyStreamKey, pruneIdem, type IdemRetention } from '../idem-keys.js';
import { decodeRecord, encodeRecord, type IdemEntry, type OutboxEntry, type PubSeq, type Reminder } from '../record.js';
import { afterFiring, dueReminders, earliestDue } from '../reminders/reminder-table.js';
import { NO_WAKE, WAKE, WAKE_UNKNOWN, type GroupResult, type OutgoingEvent, type TaskGroup, type TurnResult } from './protocol.js';
import { TurnContext } from './turn-context.js';
import type { WorkerChannel } from './worker-channel.js';

const packr = new Packr({ useRecords: false, moreTypes: true });

export interface GroupSettings {
  readonly callTimeoutMs: number;
  readonly incarnation: string;
  readonly idem: IdemRetention;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

function checkSerializable(value: unknown, ctx: TurnContext): void {
  // Packing here turns an unserializable result, tell or event into this turn's failure instead of the whole batch's.
  if (ctx.tells.length + ctx.events.length > 0) packr.pack([ctx.tells, ctx.events]);
  if (value !== undefined && value !== null && typeof value === 'object') packr.pack(value);
  else if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    throw new Error(`handler returned a ${typeof value}, which cannot be sent`);
  }
}

/** What the wake-up turn answers: how many reminders fired, and those whose handler threw. */
export interface WakeReport {
  fired: number;
  failed: [name: string, message: string][];
}

export class GroupRun {
  private readonly actor: Record<string | symbol, unknown>;
  private readonly ctx: TurnContext;
  private idem: IdemEntry[] = [];
  private outSeq = 0;
  private outbox: OutboxEntry[] = [];
  private reminders: Reminder[] = [];
  private pubs: PubSeq[] = [];
  /** The state version this group writes: its class's. */
  private readonly version: number;
  /** The last good record, to roll back to when a turn throws, and to tell whether anything changed. */
  private good: Uint8Array;
  private changed = false;
  private readonly results: TurnResult[] = [];
  private readonly newTells: OutboxEntry[] = [];
  private readonly events: OutgoingEvent[] = [];
  /** Next message to take. */
  private i = 0;
  /** Reminders still to fire for the wake-up message being handled, and its report. */
  private firing: Reminder[] = [];
  private wake: WakeReport | null = null;
  /** The reminder the running turn fires; null for a message's turn. */
  private fired: Reminder | null = null;
  /** The running message turn's idem key. */
  private idemKey: string | null = null;

  constructor(
    private readonly group: TaskGroup,
    type: ActorType,
    private readonly settings: GroupSettings,
    channel: WorkerChannel,
    /** Until when callees must remember this group's calls' keys (see Task). */
    private readonly keepUntil: number,
  ) {
    const data = group[3];
    this.version = type.version;
    this.actor = new type.cls() as unknown as Record<string | symbol, unknown>;
    this.ctx = new TurnContext(group[1], group[2], channel, settings, this);
    this.actor[ACTOR_CONTEXT] = this.ctx;
    if (data !== null) {
      const rec = decodeRecord(data);
      // Written by newer code (a rolling update): running it here would overwrite it in the old shape.
      // Thrown outside any handler, so the whole group fails with E_VERSION and nothing is written.
      if (rec.version > type.version) throw Errors.newerVersion(group[1], group[2], rec.version, type.version);
      this.actor.state = rec.version < type.version ? migrateState(type.cls, rec.state, rec.version) : rec.state;
      this.idem = rec.idem;
      this.outSeq = rec.outSeq;
      this.outbox = rec.outbox;
      this.reminders = rec.reminders;
      this.pubs = rec.pubs;
      // A migrated record is the baseline (a failed turn rolls back to it, not to the old shape), written
      // with the group's first change: a read-only turn migrates again next time rather than write.
      this.good = rec.version < type.version ? this.encode(this.actor.state, rec.idem, rec.outSeq, rec.outbox, rec.reminders, rec.pubs) : data;
    } else {
      // A new actor's baseline is its initial state, so a read-only first turn writes nothing.
      this.good = encodeRecord({ state: this.actor.state, idem: [], version: this.version });
    }
    const acked = group[5];
    if (acked !== undefined && acked !== null && acked.length > 0 && this.outbox.length > 0) {
      // Tells their targets acknowledged leave the outbox with this group's write.
      const gone = new Set(acked);
      const kept = this.outbox.filter((e) => !gone.has(e[0]));
      if (kept.length !== this.outbox.length) {
        this.outbox = kept;
        this.good = this.encode(this.actor.state, this.idem, this.outSeq, kept, this.reminders, this.pubs);
        this.changed = true;
      }
    }
  }

  /** The group's reminders as committed so far (for the turn's context). */
  committedReminders(): readonly Reminder[] {
    return this.reminders;
  }

  /** Whether the actor has a method of that name (a reminder's target). */
  hasMethod(name: string): boolean {
    return typeof this.actor[name] === 'function';
  }

  /** Entries changed outside a turn (a sender's mark moved): written with the group even if no turn changes anything. */
  private markChanged(idem: IdemEntry[]): void {
    this.idem = idem;
    this.good = this.encode(this.actor.state, idem, this.outSeq, this.outbox, this.reminders, this.pubs);
    this.changed = true;
  }

  private encode(state: unknown, idem: IdemEntry[], outSeq: number, outbox: OutboxEntry[], reminders: Reminder[], pubs: PubSeq[]): Uint8Array {
    return encodeRecord({ state, idem, outSeq, outbox, reminders, pubs, version: this.version });
  }

  /** Runs turns until the group ends (null) or a handler returns a promise (returned, to await). */
  runSync(): PromiseLike<unknown> | null {
    const messages = this.group[4];
    for (;;) {
      let value: unknown;
      if (this.firing.length > 0) {
        const r = this.firing.shift()!;
        this.fired = r;
        this.idemKey = null;
        this.ctx.begin(null, null, 0, `~r:${r[0]}@${r[1]}`, this.keepUntil);
        try {
          const fn = this.actor[r[3]];
          if (typeof fn !== 'function') throw new TypeError(`${this.group[1]} has no method '${r[3]}' (reminder '${r[0]}')`);
          value = (fn as (...a: unknown[]) => unknown).apply(this.actor, r[4]);
        } catch (err) {
          this.failed(err);
          continue;
        }
      } else {
        if (this.i >= messages.length) return null;
        if (FAILPOINTS_ON && this.i > 0) failpoint('mid-batch');
        const m = messages[this.i++]!;
        if (m[0] === WAKE) {
          this.firing = dueReminders(this.reminders, Date.now());
          this.wake = { fired: this.firing.length, failed: [] };
          this.results.push([1, this.wake]);
          continue;
        }
        const idemKey = m[2];
        if (idemKey !== null) {
          const ack = m[5] ?? -1;
          if (ack >= 0 || idemKey.charCodeAt(0) === 0x7e /* ~ */) {
            const acked = applySenderAck(this.idem, idemKey, ack, Date.now());
            if (acked.idem !== this.idem) this.markChanged(acked.idem);
            if (acked.duplicate) {
              // Its sender already had it acknowledged: nobody waits for this answer.
              this.results.push([1, null]);
              continue;
            }
          }
          const legacy = legacyStreamKey(idemKey);
          const seen = this.idem.find((e) => e[0] === idemKey || e[0] === legacy);
          if (seen !== undefined) {
            this.results.push(seen[2]);
            continue;
          }
        }
        this.fired = null;
        this.idemKey = idemKey;
        this.ctx.begin(m[3], idemKey, m[4], null, this.keepUntil, m[6]);
        try {
          value = (this.actor[m[0]] as (...a: unknown[]) => unknown).apply(this.actor, m[1] as unknown[]);
        } catch (err) {
          this.failed(err);
          continue;
        }
      }
      if (isThenable(value)) return value;
      this.succeeded(value);
    }
  }

  /** Continues after the pending turn's promise settles. */
  async runAsync(pending: PromiseLike<unknown>): Promise<GroupResult> {
    let next: PromiseLike<unknown> | null = pending;
    while (next !== null) {
      try {
        this.succeeded(await next);
      } catch (err) {
        this.failed(err);
      }
      next = this.runSync();
    }
    return this.result();
  }

  private succeeded(value: unknown): void {
    const fired = this.fired;
    try {
      // A reminder's return value goes nowhere; its tells and events still must cross.
      checkSerializable(fired === null ? value : undefined, this.ctx);
    } catch (err) {
      this.failed(err);
      return;
    }
    const ctx = this.ctx;
    const now = Date.now();
    // The turn's effects, computed aside and adopted only once the record encodes.
    let idem = this.idem;
    const result: TurnResult = [1, value];
    if (fired === null && this.idemKey !== null && this.settings.idem.hardMax > 0) {
      idem = pruneIdem([...idem, [this.idemKey, now, result]], this.settings.idem, now);
    }
    let reminders = ctx.changedReminders ?? this.reminders;
    if (fired !== null) reminders = afterFiring(reminders, fired, now);
    let outSeq = this.outSeq;
    let outbox = this.outbox;
    let tells: OutboxEntry[] | null = null;
    if (ctx.tells.length > 0) {
      const tp = ctx.traceparent;
      // A traced turn's tells keep its context in the outbox, so their delivery, whenever it happens, joins the trace.
      tells = ctx.tells.map(([type, key, method, args]): OutboxEntry => (tp === null ? [++outSeq, type, key, method, args, ctx.caller ?? null] : [++outSeq, type, key, method, args, ctx.caller ?? null, tp]));
      outbox = outbox.concat(tells);
    }
    let pubs = this.pubs;
    let events: OutgoingEvent[] | null = null;
    if (ctx.events.length > 0) {
      pubs = pubs.map((p): PubSeq => [p[0], p[1]]);
      events = ctx.events.map(([topic, data]): OutgoingEvent => {
        let entry = pubs.find((p) => p[0] === topic);
        if (entry === undefined) pubs.push((entry = [topic, 0]));
        return [topic, data, ++entry[1]];
      });
    }
    let next: Uint8Array;
    try {
      next = this.encode(this.actor.state, idem, outSeq, outbox, reminders, pubs);
    } catch (err) {
      this.failed(err);
      return;
    }
    this.idem = idem;
    this.reminders = reminders;
    this.outSeq = outSeq;
    this.outbox = outbox;
    this.pubs = pubs;
    if (tells !== null) for (const t of tells) this.newTells.push(t);
    if (events !== null) for (const e of events) this.events.push(e);
    // Only a real change is written: read-only turns cost the grid nothing.
    if (!Buffer.from(next.buffer, next.byteOffset, next.byteLength).equals(this.good)) {
      this.good = next;
      this.changed = true;
    }
    if (fired === null) this.results.push(result);
  }

  private failed(err: unknown): void {
    // Roll back: a failed turn leaves the state as the previous turn (or the grid) left it.
    this.actor.state = decodeRecord(this.good).state;
    const fired = this.fired;
    if (fired === null) {
      this.results.push([0, toErrorData(err, 'E_ACTOR_FAILED')]);
      return;
    }
    // A reminder whose handler threw has still fired: it moves on, or it would fire forever.
    this.wake?.failed.push([fired[0], err instanceof Error ? err.message : String(err)]);
    this.reminders = afterFiring(this.reminders, fired, Date.now());
    this.good = this.encode(this.actor.state, this.idem, this.outSeq, this.outbox, this.reminders, this.pubs);
    this.changed = true;
  }

  result(): GroupResult {
    const outbox = this.outbox;
    // A fresh group reports every tell still waiting, the others only the new ones.
    const tells = this.group[6] === true ? outbox : this.newTells;
    const low = outbox.length > 0 ? outbox[0]![0] : this.outSeq + 1;
    const remindAt = this.reminders.length > 0 ? earliestDue(this.reminders) : NO_WAKE;
    return [this.group[0], this.changed ? this.good : null, this.results, tells, this.events, low, outbox.length, remindAt];
  }
}

export function failedGroup(group: TaskGroup, err: unknown): GroupResult {
  const error = toErrorData(err, 'E_ACTOR_FAILED');
  // Nothing changed, nothing to send, and nothing learnt about the outbox or the reminders.
  return [group[0], null, group[4].map((): TurnResult => [0, error]), [], [], -1, -1, WAKE_UNKNOWN];
}
