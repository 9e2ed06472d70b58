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
import { ActorRegistry } from '../actor-registry.js';
import { decodeRecord, encodeRecord, pruneIdem, type IdemEntry } from '../record.js';
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

async function runGroup(group: TaskGroup, registry: ActorRegistry): Promise<GroupResult> {
  const [id, typeName, key, data, messages] = group;
  const results: TurnResult[] = [];
  const type = registry.get(typeName);
  if (type === undefined) {
    // The host validated the type, so this means the worker's module set differs: fail loudly, change nothing.
    const err = { code: 'E_UNKNOWN_ACTOR' as const, message: `actor type '${typeName}' is not loaded in the worker` };
    for (let i = 0; i < messages.length; i++) results.push([0, err]);
    return [id, null, results, [], []];
  }
  const actor = new type.cls() as unknown as Record<string | symbol, unknown>;
  const ctx = new TurnContext(key);
  actor[ACTOR_CONTEXT] = ctx;
  let idem: IdemEntry[] = [];
  if (data !== null) {
    const rec = decodeRecord(data);
    actor.state = rec.state;
    idem = rec.idem;
  }
  // The last good record, to roll back to when a turn throws. Starts as what the grid holds.
  let good: Uint8Array | null = data;
  let changed = false;
  const tells: OutgoingTell[] = [];
  const events: OutgoingEvent[] = [];
  for (const [method, args, idemKey, caller] of messages) {
    if (idemKey !== null) {
      const seen = idem.find((e) => e[0] === idemKey);
      if (seen !== undefined) {
        results.push(seen[2]);
        continue;
      }
    }
    ctx.tells = [];
    ctx.events = [];
    ctx.caller = caller ?? undefined;
    try {
      const fn = actor[method] as (...a: unknown[]) => unknown;
      let value = fn.apply(actor, args as unknown[]);
      if (isThenable(value)) value = await value;
      checkSerializable(value);
      const result: TurnResult = [1, value];
      if (idemKey !== null && settings.idemMax > 0) {
        idem.push([idemKey, Date.now(), result]);
        idem = pruneIdem(idem, settings.idemMax, settings.idemTtlMs, Date.now());
      }
      const next = encodeRecord({ state: actor.state, idem });
      // Only a real change is written: read-only turns cost the grid nothing.
      if (good === null || !Buffer.from(next.buffer, next.byteOffset, next.byteLength).equals(good)) {
        good = next;
        changed = true;
      }
      results.push(result);
      for (const t of ctx.tells) tells.push(t);
      for (const e of ctx.events) events.push(e);
    } catch (err) {
      results.push([0, toErrorData(err, 'E_ACTOR_FAILED')]);
      // Roll back: a failed turn leaves the state as the previous turn (or the grid) left it.
      if (good === null) {
        const fresh = new type.cls() as unknown as Record<string, unknown>;
        actor.state = fresh.state;
      } else {
        actor.state = decodeRecord(good).state;
      }
    }
  }
  return [id, changed ? good : null, results, tells, events];
}

function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export default async function runTask(task: Uint8Array): Promise<unknown> {
  if (registry === undefined) {
    await loading;
    if (registry === undefined) throw loadError;
  }
  const actors = registry;
  const groups = packr.unpack(task) as TaskGroup[];
  const done: GroupResult[] = [];
  let answered = false;
  let remaining = groups.length;
  let allDone!: () => void;
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  for (const group of groups) {
    runGroupSafely(group, actors).then((result) => {
      if (answered) channel().postMessage({ k: 'done', result: tight(packr.pack(result)) } satisfies UpMessage);
      else done.push(result);
      if (--remaining === 0) allDone();
    });
  }
  if (remaining > 0) await Promise.race([finished, nextMacrotask()]);
  answered = true;
  const deferred: number[] = [];
  if (done.length < groups.length) {
    const ids = new Set(done.map((r) => r[0]));
    for (const g of groups) if (!ids.has(g[0])) deferred.push(g[0]);
  }
  const result: TaskResult = [done, deferred];
  return Piscina.move(tight(packr.pack(result)));
}

/** A group that fails outside any handler (a throwing constructor, a corrupt record) fails all its turns, changing nothing. */
async function runGroupSafely(group: TaskGroup, registry: ActorRegistry): Promise<GroupResult> {
  try {
    return await runGroup(group, registry);
  } catch (err) {
    const error = toErrorData(err, 'E_ACTOR_FAILED');
    return [group[0], null, group[4].map((): TurnResult => [0, error]), [], []];
  }
}
