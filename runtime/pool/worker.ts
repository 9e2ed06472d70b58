/**
 * Worker side of a turn pool. A task is a batch of groups, each the next turns
 * of one actor; a group's turns run strictly one after another against the
 * state read from the grid, and the group returns the new record to commit.
 *
 * Groups whose handlers await something outside the worker (a call to another
 * actor, the grid) must not hold up the rest of the batch: the task answers
 * after one macrotask with the groups that finished, and the others report
 * over the side channel when they do.
 */
import { BroadcastChannel, threadId } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import Piscina from 'piscina';
import { ACTOR_CONTEXT, type ActorContext, type ActorGrid, type CallOptions } from '../../actors/index.js';
import { TroupeError, toErrorData } from '../../protocol/errors.js';
import { ActorRegistry, type ActorType } from '../actor-registry.js';
import { decodeRecord, dropAcknowledged, encodeRecord, pruneIdem, type IdemEntry } from '../record.js';
import type {
  DownMessage, GridOp, GroupResult, OutgoingEvent, OutgoingTell, TaskGroup, TaskResult, TurnResult, UpMessage, WorkerSettings,
} from './protocol.js';
import { downChannel, tight, upChannel } from './protocol.js';

const settings = Piscina.workerData as WorkerSettings;
// No top-level await: piscina first tries require() on this file, and Node 20's
// require(esm) refuses modules with top-level await in a way that breaks the import() after it.
let registry: ActorRegistry | undefined;
let loadError: unknown;
const loading = ActorRegistry.load(settings.modules).then(
  (r) => void (registry = r),
  (err: unknown) => void (loadError = err),
);
const packr = new Packr({ useRecords: false, moreTypes: true });

// Side channel, opened lazily: most tasks never need it.
let up: BroadcastChannel | undefined;
let nextRequest = 1;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void; timer?: NodeJS.Timeout }>();

function channel(): BroadcastChannel {
  if (up !== undefined) return up;
  up = new BroadcastChannel(upChannel(settings.channel));
  up.unref();
  const down = new BroadcastChannel(downChannel(settings.channel));
  down.unref();
  down.onmessage = (event) => {
    const msg = (event as unknown as { data: DownMessage }).data;
    if (msg.w !== threadId) return;
    const p = pending.get(msg.id);
    if (p === undefined) return;
    pending.delete(msg.id);
    if (p.timer !== undefined) clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.value);
    else p.reject(TroupeError.fromData(msg.error));
  };
  return up;
}

function request(msg: UpMessage & { id: number }, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const entry: { resolve: (v: unknown) => void; reject: (e: unknown) => void; timer?: NodeJS.Timeout } = { resolve, reject };
    // The host enforces the deadline too; this timer only guarantees the turn itself can never hang.
    entry.timer = setTimeout(() => {
      pending.delete(msg.id);
      reject(new TroupeError('E_TIMEOUT', `call did not complete within ${timeoutMs} ms`));
    }, timeoutMs + 50);
    pending.set(msg.id, entry);
    channel().postMessage(msg);
  });
}

function gridRequest(op: GridOp, name: string, args: unknown[]): Promise<unknown> {
  return request({ k: 'grid', w: threadId, id: nextRequest++, op, name, args }, settings.callTimeoutMs);
}

const actorGrid: ActorGrid = {
  map: (name) => ({
    get: (key) => gridRequest('map.get', name, [key]),
    set: async (key, value) => void (await gridRequest('map.set', name, [key, value])),
    delete: async (key) => (await gridRequest('map.delete', name, [key])) as boolean,
    keys: async () => (await gridRequest('map.keys', name, [])) as string[],
  }),
  counter: (name) => ({
    get: async () => (await gridRequest('counter.get', name, [])) as number,
    addAndGet: async (delta) => (await gridRequest('counter.addAndGet', name, [delta])) as number,
  }),
  withLock: async (name, timeoutMs, fn) => {
    const token = (await gridRequest('lock', name, [timeoutMs])) as number;
    try {
      return await fn();
    } finally {
      await gridRequest('unlock', name, [token]);
    }
  },
};

/** Per-turn effects, kept apart so a failed turn's tells and events are dropped with its state. */
class TurnContext implements ActorContext {
  tells: OutgoingTell[] = [];
  events: OutgoingEvent[] = [];
  caller: string | undefined = undefined;
  readonly grid = actorGrid;
  constructor(readonly key: string) {}

  call(type: string, key: string, method: string, args: unknown[], options?: CallOptions): Promise<unknown> {
    const timeout = options?.timeout ?? settings.callTimeoutMs;
    return request(
      { k: 'call', w: threadId, id: nextRequest++, type, key, method, args, timeout, idem: options?.idem ?? null, caller: this.caller ?? null },
      timeout,
    );
  }

  tell(type: string, key: string, method: string, args: unknown[]): void {
    this.tells.push([type, key, method, args]);
  }

  publish(topic: string, data: unknown): void {
    this.events.push([topic, data]);
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

function checkSerializable(value: unknown): void {
  // Packing here turns an unserializable result into this turn's failure instead of the whole batch's.
  if (value !== undefined && value !== null && typeof value === 'object') packr.pack(value);
  else if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    throw new Error(`handler returned a ${typeof value}, which cannot be sent`);
  }
}

/**
 * One actor's turns in one task. Turns run synchronously while handlers
 * return plain values; the first handler that returns a promise moves the
 * rest of the group onto the async path. Most turns never pay for a promise.
 */
class GroupRun {
  private readonly actor: Record<string | symbol, unknown>;
  private readonly ctx: TurnContext;
  private idem: IdemEntry[] = [];
  /** The last good record, to roll back to when a turn throws, and to tell whether anything changed. */
  private good: Uint8Array;
  private changed = false;
  private readonly results: TurnResult[] = [];
  private readonly tells: OutgoingTell[] = [];
  private readonly events: OutgoingEvent[] = [];
  private i = 0;

  constructor(private readonly group: TaskGroup, private readonly type: ActorType) {
    const data = group[3];
    this.actor = new type.cls() as unknown as Record<string | symbol, unknown>;
    this.ctx = new TurnContext(group[2]);
    this.actor[ACTOR_CONTEXT] = this.ctx;
    if (data !== null) {
      const rec = decodeRecord(data);
      this.actor.state = rec.state;
      this.idem = rec.idem;
      this.good = data;
    } else {
      // A new actor's baseline is its initial state, so a read-only first turn writes nothing.
      this.good = encodeRecord({ state: this.actor.state, idem: [] });
    }
  }

  /** Runs turns until the group ends (null) or a handler returns a promise (returned, to await). */
  runSync(): PromiseLike<unknown> | null {
    const messages = this.group[4];
    for (; this.i < messages.length; this.i++) {
      const m = messages[this.i]!;
      const idemKey = m[2];
      if (idemKey !== null && m[4] !== undefined) this.idem = dropAcknowledged(this.idem, idemKey, m[4]);
      if (idemKey !== null) {
        const seen = this.idem.find((e) => e[0] === idemKey);
        if (seen !== undefined) {
          this.results.push(seen[2]);
          continue;
        }
      }
      this.ctx.tells = [];
      this.ctx.events = [];
      this.ctx.caller = m[3] ?? undefined;
      let value: unknown;
      try {
        value = (this.actor[m[0]] as (...a: unknown[]) => unknown).apply(this.actor, m[1] as unknown[]);
      } catch (err) {
        this.failed(err);
        continue;
      }
      if (isThenable(value)) return value;
      this.succeeded(value);
    }
    return null;
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
      this.i++;
      next = this.runSync();
    }
    return this.result();
  }

  private succeeded(value: unknown): void {
    try {
      checkSerializable(value);
    } catch (err) {
      this.failed(err);
      return;
    }
    const result: TurnResult = [1, value];
    const idemKey = this.group[4][this.i]![2];
    if (idemKey !== null && settings.idem.hardMax > 0) {
      const now = Date.now();
      this.idem.push([idemKey, now, result]);
      this.idem = pruneIdem(this.idem, settings.idem, now);
    }
    const next = encodeRecord({ state: this.actor.state, idem: this.idem });
    // Only a real change is written: read-only turns cost the grid nothing.
    if (!Buffer.from(next.buffer, next.byteOffset, next.byteLength).equals(this.good)) {
      this.good = next;
      this.changed = true;
    }
    this.results.push(result);
    for (const t of this.ctx.tells) this.tells.push(t);
    for (const e of this.ctx.events) this.events.push(e);
  }

  private failed(err: unknown): void {
    this.results.push([0, toErrorData(err, 'E_ACTOR_FAILED')]);
    // Roll back: a failed turn leaves the state as the previous turn (or the grid) left it.
    this.actor.state = decodeRecord(this.good).state;
  }

  result(): GroupResult {
    return [this.group[0], this.changed ? this.good : null, this.results, this.tells, this.events];
  }
}

function failedGroup(group: TaskGroup, err: unknown): GroupResult {
  const error = toErrorData(err, 'E_ACTOR_FAILED');
  return [group[0], null, group[4].map((): TurnResult => [0, error]), [], []];
}

function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export default async function runTask(task: Uint8Array): Promise<unknown> {
  if (registry === undefined) {
    await loading;
    if (registry === undefined) throw loadError;
  }
  const groups = packr.unpack(task) as TaskGroup[];
  const done: GroupResult[] = [];
  const later: Promise<void>[] = [];
  let answered = false;
  for (const group of groups) {
    const type = registry.get(group[1]);
    if (type === undefined) {
      // The host validated the type, so the worker's module set differs: fail loudly, change nothing.
      done.push(failedGroup(group, { code: 'E_UNKNOWN_ACTOR', message: `actor type '${group[1]}' is not loaded in the worker` }));
      continue;
    }
    let run: GroupRun;
    let pending: PromiseLike<unknown> | null;
    try {
      run = new GroupRun(group, type);
      pending = run.runSync();
    } catch (err) {
      // Outside any handler: a throwing constructor, a corrupt record. Fail the group, change nothing.
      done.push(failedGroup(group, err));
      continue;
    }
    if (pending === null) {
      done.push(run.result());
      continue;
    }
    later.push(
      run.runAsync(pending).catch((err: unknown) => failedGroup(group, err)).then((result) => {
        if (answered) channel().postMessage({ k: 'done', result: tight(packr.pack(result)) } satisfies UpMessage);
        else done.push(result);
      }),
    );
  }
  // Groups awaiting something outside the worker report over the channel instead of holding up the task.
  if (later.length > 0) await Promise.race([Promise.all(later), nextMacrotask()]);
  answered = true;
  const deferred: number[] = [];
  if (done.length < groups.length) {
    const ids = new Set(done.map((r) => r[0]));
    for (const g of groups) if (!ids.has(g[0])) deferred.push(g[0]);
  }
  const result: TaskResult = [done, deferred];
  return Piscina.move(tight(packr.pack(result)));
}
