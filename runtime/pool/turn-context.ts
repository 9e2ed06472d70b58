/**
 * What a handler reaches through `this` during one turn: its calls, tells,
 * events and reminder changes. Effects are kept apart per turn, so a turn
 * that throws drops all of them with its state.
 */
import { threadId } from 'node:worker_threads';
import { isReservedName, type ActorContext, type CallOptions, type ReminderInfo, type ReminderSchedule } from '../../actors/index.js';
import { CallKeys, RESERVED_PREFIX } from '../idem-keys.js';
import type { Reminder } from '../record.js';
import { checkSchedule, describe, withoutReminder, withReminder } from '../reminders/reminder-table.js';
import type { WorkerChannel } from './worker-channel.js';

/** A tell as the handler made it, before it gets its outbox sequence number. */
export type PendingTell = [type: string, key: string, method: string, args: unknown[]];

export class TurnContext implements ActorContext {
  tells: PendingTell[] = [];
  events: [topic: string, data: unknown][] = [];
  /** This turn's reminder table, once it changed one (copy on write); null: untouched. */
  changedReminders: Reminder[] | null = null;
  caller: string | undefined = undefined;
  /** The running turn's trace context (its turn span's); null: untraced. */
  traceparent: string | null = null;
  private idem: string | null = null;
  private turnSeq = 0;
  private turnName: string | null = null;
  private keys: CallKeys | null = null;
  private keepUntil = 0;

  constructor(
    readonly type: string,
    readonly key: string,
    private readonly channel: WorkerChannel,
    private readonly settings: { readonly callTimeoutMs: number; readonly incarnation: string },
    /** The group running this actor's turns. */
    private readonly group: { committedReminders(): readonly Reminder[]; hasMethod(name: string): boolean },
  ) {}

  get grid(): ActorContext['grid'] {
    return this.channel.grid;
  }

  /**
   * Starts a turn. Its identity is the message's idem key, a reminder's name
   * and due time, or this node's number for the message; the keys of its
   * calls are derived from it only when it makes one.
   */
  begin(caller: string | null, idem: string | null, turnSeq: number, turnName: string | null, keepUntil: number, traceparent?: string): void {
    this.traceparent = traceparent ?? null;
    if (this.tells.length > 0) this.tells = [];
    if (this.events.length > 0) this.events = [];
    this.changedReminders = null;
    this.caller = caller ?? undefined;
    this.idem = idem;
    this.turnSeq = turnSeq;
    this.turnName = turnName;
    this.keys = null;
    this.keepUntil = keepUntil;
  }

  private callKey(): string {
    if (this.keys === null) {
      const turn = this.turnName ?? this.idem ?? `~n:${this.settings.incarnation}/${this.turnSeq}`;
      this.keys = new CallKeys(this.type, this.key, turn, this.keepUntil);
    }
    return this.keys.take();
  }

  call(type: string, key: string, method: string, args: unknown[], options?: CallOptions): Promise<unknown> {
    const given = options?.idem;
    if (given !== undefined && (typeof given !== 'string' || given.length === 0 || given.startsWith(RESERVED_PREFIX))) {
      return Promise.reject(new TypeError(`an idem key must be a non-empty string not starting with '${RESERVED_PREFIX}'`));
    }
    // A key on every call: the same turn run again makes the same calls with the same keys.
    const idem = given ?? this.callKey();
    const timeout = options?.timeout ?? this.settings.callTimeoutMs;
    const tp = this.traceparent;
    return this.channel.request(
      tp === null
        ? { k: 'call', w: threadId, id: this.channel.id(), type, key, method, args, timeout, idem, caller: this.caller ?? null }
        : { k: 'call', w: threadId, id: this.channel.id(), type, key, method, args, timeout, idem, caller: this.caller ?? null, tp },
      timeout,
    );
  }

  tell(type: string, key: string, method: string, args: unknown[]): void {
    this.tells.push([type, key, method, args]);
  }

  publish(topic: string, data: unknown): void {
    if (typeof topic !== 'string' || topic.length === 0) throw new TypeError('publish(topic, data) needs a non-empty topic');
    this.events.push([topic, data]);
  }

  private reminderTable(): readonly Reminder[] {
    return this.changedReminders ?? this.group.committedReminders();
  }

  remind(name: string, schedule: ReminderSchedule, method: string, args: unknown[]): void {
    const { due, every } = checkSchedule(name, schedule, Date.now());
    if (typeof method !== 'string' || isReservedName(method) || !this.group.hasMethod(method)) {
      throw new TypeError(`reminder '${name}': ${this.type} has no method '${String(method)}' to call`);
    }
    this.changedReminders = withReminder(this.reminderTable(), [name, due, every, method, args]);
  }

  cancelReminder(name: string): boolean {
    const table = this.reminderTable();
    if (!table.some((r) => r[0] === name)) return false;
    this.changedReminders = withoutReminder(table, name);
    return true;
  }

  reminders(): ReminderInfo[] {
    return describe(this.reminderTable());
  }
}
