/**
 * Runs turns: keeps a mailbox per live actor, gathers the actors with mail
 * into pool tasks, commits each actor's new record to the grid, and only then
 * answers the callers.
 *
 * Invariants:
 * - An actor has at most one group of turns out (running or committing) at a
 *   time, so its turns are strictly sequential and each group starts from the
 *   record the previous one committed.
 * - A reply leaves only after the record that contains its effect is
 *   committed; tells and events leave at the same moment.
 * - A version conflict means another node (or an older view of this one)
 *   wrote the actor: nothing was answered yet, so the group is re-run on the
 *   fresh record.
 */
import type { Grid, RecordWrite, VersionedRecord, WriteOutcome } from '../grid/index.js';
import { toErrorData, type ErrorData } from '../protocol/errors.js';
import type { Envelope } from './envelope.js';
import type { GroupCommitter } from './group-committer.js';
import type { GroupResult, OutgoingEvent, OutgoingTell, TaskGroup, TurnMessage } from './pool/protocol.js';
import { TaskTimeout, type TurnPool } from './pool/turn-pool.js';
import type { TypeBreakers } from './resilience/type-breakers.js';

/** Conflicts in a row on one actor before its callers get E_UNAVAILABLE. */
const MAX_CONFLICT_RETRIES = 16;
/**
 * Re-runs after a conflict wait up to this long, at random, so two writers in
 * lockstep fall out of it. Kept short: a longer wait only widens the window
 * for the other writer, which then wins again.
 */
const CONFLICT_JITTER_MS = 0.5;
/** Most turns in one pool task; large enough to amortize the hand-off, small enough to spread over threads. */
const MAX_TASK_TURNS = 1024;
const MIN_TASK_TURNS = 32;
/** Extra time a task gets past its latest call deadline before its worker is terminated. */
const TASK_GRACE_MS = 1000;

class Activation {
  readonly queue: Envelope[] = [];
  head = 0;
  /** The group out now, if any. */
  running: Envelope[] | null = null;
  loaded = false;
  record: VersionedRecord | undefined = undefined;
  ready = false;
  conflicts = 0;
  lastActive = 0;
  constructor(readonly type: string, readonly key: string) {}

  get waiting(): number {
    return this.queue.length - this.head;
  }

  take(max: number): Envelope[] {
    const out: Envelope[] = [];
    while (this.head < this.queue.length && out.length < max) {
      const env = this.queue[this.head++]!;
      if (!env.done) out.push(env);
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return out;
  }

  /** Puts a group back at the front, in its original order (after a conflict). */
  putBack(envs: readonly Envelope[]): void {
    const live = envs.filter((e) => !e.done);
    this.queue.splice(0, this.head, ...live);
    this.head = 0;
  }
}

interface GroupRun {
  readonly act: Activation;
  readonly envs: Envelope[];
  readonly expectedVersion: number;
  readonly startedAt: number;
  readonly latestDeadline: number;
}

export interface TurnSchedulerOptions {
  readonly grid: Grid;
  readonly committer: GroupCommitter;
  readonly pool: TurnPool;
  readonly turnsPerActorBatch: number;
  readonly maxQueued: number;
  readonly idleMs: number;
  /** Whether this node owns an actor now (always true on a single node). */
  readonly isLocal: (type: string, key: string) => boolean;
  /** Mail for actors now owned elsewhere: the node routes it again. */
  readonly reroute: (envs: readonly Envelope[]) => void;
  /** Effects of committed turns: the node routes them. */
  readonly onTells: (tells: readonly OutgoingTell[]) => void;
  readonly onEvents: (events: readonly OutgoingEvent[]) => void;
  readonly log: (level: 'warn' | 'error', event: string, fields: Record<string, unknown>) => void;
  /** Per-type breakers fed with worker failures; shared by every bulkhead. */
  readonly breakers: TypeBreakers;
}

export class TurnScheduler {
  private readonly activations = new Map<string, Activation>();
  private readonly groups = new Map<number, GroupRun>();
  private ready: Activation[] = [];
  private flushScheduled = false;
  private nextGroup = 1;
  private tasksOut = 0;
  private queuedTurns = 0;
  private stopped = false;
  private readonly sweeper: NodeJS.Timeout;
  /** Turns completed since start, for metrics. */
  turnsRun = 0;

  constructor(private readonly o: TurnSchedulerOptions) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(250, Math.min(o.idleMs / 2, 5000)));
    this.sweeper.unref();
  }

  /** Turns waiting in mailboxes (not yet handed to a worker). */
  get queued(): number {
    return this.queuedTurns;
  }

  get activeActors(): number {
    return this.activations.size;
  }

  /** Groups handed to workers or committing. */
  get inflightGroups(): number {
    return this.groups.size;
  }

  /** Accepts a message for an actor; refuses with E_OVERLOADED past the node's queue bound. */
  enqueue(env: Envelope): void {
    if (this.stopped) {
      env.fail({ code: 'E_UNAVAILABLE', message: 'node is stopping; retry on another node' });
      return;
    }
    if (this.o.breakers.isOpen(env.type)) {
      env.fail({ code: 'E_UNAVAILABLE', message: `actor type '${env.type}' keeps failing its worker threads (circuit breaker open); retry after a backoff` });
      return;
    }
    if (this.queuedTurns >= this.o.maxQueued) {
      env.fail({ code: 'E_OVERLOADED', message: `node has ${this.queuedTurns} turns waiting; retry after a backoff` });
      return;
    }
    const id = env.type + '\u0000' + env.key;
    let act = this.activations.get(id);
    if (act === undefined) {
      act = new Activation(env.type, env.key);
      this.activations.set(id, act);
    }
    act.queue.push(env);
    this.queuedTurns++;
    this.markReady(act);
  }

  private markReady(act: Activation): void {
    if (act.ready || act.running !== null) return;
    act.ready = true;
    this.ready.push(act);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // A microtask, not setImmediate: everything that arrived in this callback
    // (a whole client frame, a whole task's results) still goes out together,
    // without paying an event-loop turn of latency per hop.
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Hands ready actors to the pool, keeping at most a few tasks per thread out so mail batches up under load. */
  private flush(): void {
    if (this.ready.length === 0 || this.tasksOut >= this.o.pool.capacity()) return;
    const ready = this.ready;
    this.ready = [];
    const toLoad: Activation[] = [];
    const runnable: Activation[] = [];
    for (const act of ready) {
      act.ready = false;
      if (act.running !== null || act.waiting === 0) continue;
      if (act.loaded) runnable.push(act);
      else toLoad.push(act);
    }
    if (toLoad.length > 0) this.load(toLoad);
    if (runnable.length > 0) this.dispatch(runnable);
  }

  private load(acts: Activation[]): void {
    // Marked busy while loading so no second load or group starts.
    for (const act of acts) act.running = [];
    this.o.grid.readRecords(acts.map((a) => ({ type: a.type, key: a.key }))).then(
      (records) => {
        for (let i = 0; i < acts.length; i++) {
          const act = acts[i]!;
          act.running = null;
          act.loaded = true;
          act.record = records[i];
        }
        this.dispatch(acts);
      },
      (err: unknown) => {
        const error = toErrorData(err, 'E_UNAVAILABLE');
        for (const act of acts) {
          act.running = null;
          this.failWaiting(act, error);
        }
      },
    );
  }

  private failWaiting(act: Activation, error: ErrorData): void {
    for (const env of act.take(Number.MAX_SAFE_INTEGER)) {
      this.queuedTurns--;
      env.fail(error);
    }
  }

  private dispatch(acts: Activation[]): void {
    const groups: TaskGroup[] = [];
    let turns = 0;
    const now = Date.now();
    for (const act of acts) {
      if (act.running !== null) continue;
      const before = act.waiting;
      const envs = act.take(this.o.turnsPerActorBatch);
      this.queuedTurns -= before - act.waiting;
      if (envs.length === 0) continue;
      const id = this.nextGroup++;
      const messages: TurnMessage[] = new Array(envs.length);
      let latestDeadline = 0;
      for (let i = 0; i < envs.length; i++) {
        const e = envs[i]!;
        messages[i] = e.ack < 0 ? [e.method, e.args, e.idem, e.caller] : [e.method, e.args, e.idem, e.caller, e.ack];
        if (e.deadline > latestDeadline) latestDeadline = e.deadline;
      }
      act.running = envs;
      this.groups.set(id, { act, envs, expectedVersion: act.record?.version ?? 0, startedAt: now, latestDeadline });
      groups.push([id, act.type, act.key, act.record?.data ?? null, messages]);
      turns += envs.length;
    }
    if (groups.length === 0) return;
    // Spread big batches over the threads, keep small ones whole.
    const threads = Math.max(1, this.o.pool.threadCount());
    const perTask = Math.min(MAX_TASK_TURNS, Math.max(MIN_TASK_TURNS, Math.ceil(turns / threads)));
    let task: TaskGroup[] = [];
    let taskTurns = 0;
    for (const g of groups) {
      task.push(g);
      taskTurns += g[4].length;
      if (taskTurns >= perTask) {
        this.runTask(task);
        task = [];
        taskTurns = 0;
      }
    }
    if (task.length > 0) this.runTask(task);
  }

  private runTask(task: TaskGroup[], isolated = false): void {
    this.tasksOut++;
    // Sync work past the latest deadline in the batch can only be a stuck handler.
    let latest = 0;
    for (const g of task) latest = Math.max(latest, this.groups.get(g[0])?.latestDeadline ?? 0);
    const timeoutMs = Math.max(1, latest - Date.now()) + TASK_GRACE_MS;
    this.o.pool.run(task, timeoutMs).then(
      ([done]) => {
        this.tasksOut--;
        this.completeAll(done);
        this.scheduleFlush();
      },
      (err: unknown) => {
        this.tasksOut--;
        // The worker died (process.exit, a crash) or was terminated (a stuck handler): nothing
        // was committed, so every actor in the batch still has its old state.
        const cause = err instanceof Error ? err.message : String(err);
        this.o.log('warn', 'task_failed', { error: cause, groups: task.length, isolated });
        if (!isolated && task.length > 1) {
          // One bad actor must not fail the others that shared its batch: run each group on its own once.
          for (const g of task) this.runTask([g], true);
        } else {
          for (const g of task) this.o.breakers.record(g[1], false);
          const error: ErrorData = err instanceof TaskTimeout
            ? { code: 'E_TIMEOUT', message: `${cause}; the actor's state is unchanged` }
            : { code: 'E_ACTOR_FAILED', message: `the worker thread running this turn stopped (${cause}); the actor's state is unchanged` };
          for (const g of task) this.abandon(g[0], error);
        }
        this.scheduleFlush();
      },
    );
  }

  /** A group that reported over the side channel after its task answered. */
  deferredResult(result: GroupResult): void {
    this.completeAll([result]);
    this.scheduleFlush();
  }

  private abandon(groupId: number, error: ErrorData): void {
    const run = this.groups.get(groupId);
    if (run === undefined) return;
    this.groups.delete(groupId);
    for (const env of run.envs) env.fail(error);
    this.release(run.act);
  }

  private release(act: Activation): void {
    act.running = null;
    act.lastActive = Date.now();
    if (act.waiting > 0) this.markReady(act);
  }

  /**
   * Results of one task (or one deferred group): groups that changed nothing
   * answer at once; the others' records go to the grid as one group commit,
   * and they answer when it has.
   */
  private completeAll(done: readonly GroupResult[]): void {
    const writes: RecordWrite[] = [];
    const waiting: { run: GroupRun; result: GroupResult; data: Buffer }[] = [];
    for (const result of done) {
      const groupId = result[0];
      const run = this.groups.get(groupId);
      if (run === undefined) continue; // abandoned by the watchdog; its late result must not be applied
      if (result[1] === null) {
        this.groups.delete(groupId);
        this.finish(run, result);
        continue;
      }
      // Own the bytes (a Buffer copy): `data` is a view into the whole result buffer.
      const data = Buffer.from(result[1]);
      writes.push({ type: run.act.type, key: run.act.key, expectedVersion: run.expectedVersion, data });
      waiting.push({ run, result, data });
    }
    if (writes.length === 0) return;
    this.o.committer.submitMany(writes).then(
      (outcomes) => {
        for (let i = 0; i < waiting.length; i++) this.committed(waiting[i]!.run, waiting[i]!.result, waiting[i]!.data, outcomes[i]!);
        this.scheduleFlush();
      },
      (err: unknown) => {
        for (const w of waiting) this.commitFailed(w.run, w.result[0], err);
        this.scheduleFlush();
      },
    );
  }

  private committed(run: GroupRun, result: GroupResult, data: Buffer, outcome: WriteOutcome): void {
    const groupId = result[0];
    if (this.groups.get(groupId) !== run) return;
    this.groups.delete(groupId);
    const act = run.act;
    if (outcome.ok) {
      act.record = { version: outcome.version, data };
      act.conflicts = 0;
      this.finish(run, result);
      return;
    }
    // Someone else wrote this actor: re-run the same turns on what the grid holds now.
    act.conflicts++;
    act.record = outcome.current;
    act.loaded = outcome.current !== undefined;
    if (act.conflicts > MAX_CONFLICT_RETRIES) {
      this.o.log('warn', 'conflict_retries_exhausted', { type: act.type, key: act.key });
      for (const env of run.envs) env.fail({ code: 'E_UNAVAILABLE', message: 'the actor is being written elsewhere; retry after a backoff' });
      act.conflicts = 0;
      this.release(act);
      return;
    }
    act.putBack(run.envs);
    this.queuedTurns += run.envs.filter((e) => !e.done).length;
    // Still busy while it waits, so no other group of this actor starts meanwhile.
    setTimeout(() => this.release(act), Math.random() * CONFLICT_JITTER_MS);
  }

  private commitFailed(run: GroupRun, groupId: number, err: unknown): void {
    if (this.groups.get(groupId) !== run) return;
    this.groups.delete(groupId);
    // Outcome unknown (the write may have landed): reload before the next turn; callers may retry with their idem key.
    run.act.loaded = false;
    const error = toErrorData(err, 'E_UNAVAILABLE');
    for (const env of run.envs) env.fail(error.code === 'E_ACTOR_FAILED' ? { code: 'E_UNAVAILABLE', message: error.message } : error);
    this.release(run.act);
  }

  private finish(run: GroupRun, [, , results, tells, events]: GroupResult): void {
    this.turnsRun += results.length;
    this.o.breakers.record(run.act.type, true);
    for (let i = 0; i < run.envs.length; i++) run.envs[i]!.settle(results[i]!);
    if (tells.length > 0) this.o.onTells(tells);
    if (events.length > 0) this.o.onEvents(events);
    this.release(run.act);
  }

  /** Forgets idle actors (their state is in the grid) and frees actors whose group outlived every deadline. */
  private sweep(): void {
    const now = Date.now();
    for (const [groupId, run] of this.groups) {
      // A worker that died with deferred groups never answers for them.
      if (now > run.latestDeadline + 5_000) {
        this.o.log('warn', 'group_abandoned', { type: run.act.type, key: run.act.key, ageMs: now - run.startedAt });
        this.abandon(groupId, { code: 'E_TIMEOUT', message: 'the turn did not finish within its deadline' });
      }
    }
    for (const [id, act] of this.activations) {
      if (act.running === null && act.waiting === 0 && !act.ready && now - act.lastActive > this.o.idleMs) this.activations.delete(id);
    }
  }

  /**
   * Shard ownership moved. Cached records may now be stale (another node may
   * have written while it owned them), so every actor reloads before its next
   * turn; mail that arrived here for actors now owned elsewhere goes to their
   * owners. Calls other nodes sent here stay: the sender decided.
   */
  ownershipChanged(): void {
    const moved: Envelope[] = [];
    for (const [id, act] of this.activations) {
      act.loaded = false;
      if (this.o.isLocal(act.type, act.key)) continue;
      const keep: Envelope[] = [];
      for (const env of act.take(Number.MAX_SAFE_INTEGER)) {
        this.queuedTurns--;
        if (env.forwarded) keep.push(env);
        else moved.push(env);
      }
      if (keep.length > 0) {
        act.putBack(keep);
        this.queuedTurns += keep.length;
      } else if (act.running === null) {
        this.activations.delete(id);
      }
    }
    if (moved.length > 0) this.o.reroute(moved);
  }

  /** Refuses new turns and waits (bounded) for those out to finish. */
  async drain(timeoutMs: number): Promise<void> {
    this.stopped = true;
    const until = Date.now() + timeoutMs;
    while ((this.groups.size > 0 || this.queuedTurns > 0) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.stopped = true;
    clearInterval(this.sweeper);
    const error: ErrorData = { code: 'E_UNAVAILABLE', message: 'node stopped; retry on another node' };
    for (const act of this.activations.values()) this.failWaiting(act, error);
    for (const groupId of [...this.groups.keys()]) this.abandon(groupId, error);
    this.activations.clear();
  }
}
