/**
 * Runs turns: keeps a mailbox per live actor (turns/activation.ts), gathers
 * the actors with mail into pool tasks, commits each actor's new record
 * (turns/commit-step.ts), and only then answers the callers, delivers the
 * tells (outbox/outbox-delivery.ts) and schedules reminders
 * (reminders/wakeups.ts). This class is the one that wires them: it owns
 * the order of events per actor.
 *
 * Invariants:
 * - An actor has at most one group of turns out (running or committing) at a
 *   time, so its turns are strictly sequential and each group starts from the
 *   record the previous one committed.
 * - A reply leaves only after the record that contains its effect is
 *   committed; the record holds that turn's tells too (its outbox), and they
 *   are delivered from there, after the commit, until acknowledged.
 * - A version conflict means another node (or an older view of this one)
 *   wrote the actor: nothing was answered yet, so the group is re-run on the
 *   fresh record. A failed write fails only its own group's callers.
 */
import { stamp, TRACE_LATENCY } from './metrics/latency-trace.js';
import { isLost, type Grid, type VersionedRecord, type WriteOutcome } from '../grid/index.js';
import { Errors, toErrorData, type ErrorData } from '../protocol/errors.js';
import type { Envelope, ReplySink } from './envelope.js';
import { FAILPOINTS_ON, failpoint } from './failpoints.js';
import { PASSING_KEY_MARGIN_MS } from './idem-keys.js';
import { traceFields, type Logger } from './log.js';
import type { CallTracer } from './tracing/call-tracer.js';
import { commitSpans, endTurnSpans, failTurnSpans, startTurnSpan, turnParent } from './tracing/turn-spans.js';
import { OutboxDelivery } from './outbox/outbox-delivery.js';
import { NO_WAKE, WAKE, WAKE_UNKNOWN, type GroupResult, type OutgoingEvent, type TaskResult, type TurnResult } from './pool/protocol.js';
import { TaskWriter } from './pool/task-writer.js';
import { encodeFailed, TaskDataError, TaskThreadEnded, TaskTimeout, type TurnPool } from './pool/turn-pool.js';
import type { Wakeups } from './reminders/wakeups.js';
import type { TypeBreakers } from './resilience/type-breakers.js';
import type { KeyQuarantine } from './resilience/key-quarantine.js';
import type { CallRequest } from './router.js';
import type { Activation } from './turns/activation.js';
import { ActivationTable } from './turns/activation-table.js';
import { WAKE_RETRY_MS, WakeTurns } from './turns/wake-turns.js';
import { shardOf } from './placement/shards.js';
import { CommitStep } from './turns/commit-step.js';
import type { GroupCommitter } from './group-committer.js';

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
/** How often groups are checked for running past their deadline. */
const STUCK_CHECK_MS = 250;

interface GroupRun {
  readonly id: number;
  readonly act: Activation;
  readonly envs: Envelope[];
  /** What the task carries besides the messages, kept as sent: an isolated re-run (runTask) sends the same. */
  readonly data: Uint8Array | null;
  readonly acked: readonly number[] | null;
  readonly fresh: boolean;
  readonly expectedVersion: number;
  readonly startedAt: number;
  readonly latestDeadline: number;
  /** The worker thread an awaiting (deferred) group goes on running in; -1 while its task runs or once it has answered. */
  thread: number;
  /** Its thread is being ended: the group ran past its deadline. */
  ending: boolean;
}

export interface TurnSchedulerOptions {
  readonly grid: Grid;
  readonly committer: GroupCommitter;
  readonly pool: TurnPool;
  readonly wakeups: Wakeups;
  readonly turnsPerActorBatch: number;
  /** Turns waiting in mailboxes, and tells waiting for their targets, before new calls get E_OVERLOADED. */
  readonly maxQueued: number;
  readonly idleMs: number;
  readonly callTimeoutMs: number;
  /** Whether this node owns an actor now (always true on a single node). */
  readonly isLocal: (type: string, key: string) => boolean;
  /**
   * How long to wait before running turns of a shard this node owns: 0, the
   * rest of a handoff (mail waits), or Infinity while the node is fenced
   * (its membership unconfirmed: calls are refused). Always 0 on a single node.
   */
  readonly serveDelay: (shard: number) => number;
  /**
   * A cached record older than this is read again before a turn runs: the
   * bound on how stale a read can be while two nodes' views of the cluster
   * differ (`--read-lease`).
   */
  readonly readLeaseMs: number;
  /** Bounds on live actors and their cached records' bytes (see evict()). */
  readonly maxActivations: number;
  readonly maxActivationBytes: number;
  /** Mail for actors now owned elsewhere: the node routes it again. */
  readonly reroute: (envs: readonly Envelope[]) => void;
  /** Routes a tell from an outbox: to this node's scheduler or the owner's node. */
  readonly route: (req: CallRequest, sink: ReplySink) => void;
  /** Events of committed turns: the node publishes them. */
  readonly onEvents: (type: string, key: string, events: readonly OutgoingEvent[]) => void;
  readonly log: Logger;
  /** This bulkhead's per-type breakers, fed with worker failures (each key's first only: see quarantine). */
  readonly breakers: TypeBreakers;
  /** This bulkhead's poison keys: quarantined on their own before their type's breaker opens. */
  readonly quarantine: KeyQuarantine;
  /** Turn and commit spans (--otel-endpoint); null or absent: none. */
  readonly tracer?: CallTracer | null;
}

export class TurnScheduler {
  private readonly activations: ActivationTable;
  private readonly groups = new Map<number, GroupRun>();
  private ready: Activation[] = [];
  private flushScheduled = false;
  private nextGroup = 1;
  private tasksOut = 0;
  private queuedTurns = 0;
  private stopped = false;
  private readonly sweeper: NodeJS.Timeout;
  private readonly wakes: WakeTurns;
  private readonly stuckTimer: NodeJS.Timeout;
  /** Actors whose shard is under handoff: their mail waits until it may be served. */
  private readonly parked = new Set<Activation>();
  private readonly commits: CommitStep;
  readonly outbox: OutboxDelivery;
  /** Turns completed since start, for metrics. */
  turnsRun = 0;
  private readonly tracer: CallTracer | null;
  /** Writes every task this scheduler sends (one at a time: the event loop's thread). */
  private readonly writer = new TaskWriter();

  constructor(private readonly o: TurnSchedulerOptions) {
    this.tracer = o.tracer ?? null;
    this.activations = new ActivationTable({ maxActivations: o.maxActivations, maxBytes: o.maxActivationBytes, idleMs: o.idleMs }, o.log, (act) => this.forgotten(act));
    this.commits = new CommitStep(o.committer, o.wakeups);
    this.outbox = new OutboxDelivery({
      route: o.route,
      current: (act) => this.isCurrent(act),
      acknowledged: (act, seq) => this.wakes.acknowledged(act, seq),
      callTimeoutMs: o.callTimeoutMs,
      log: o.log,
    });
    this.sweeper = setInterval(() => this.sweep(), Math.max(250, Math.min(o.idleMs / 2, 5000)));
    this.sweeper.unref();
    this.wakes = new WakeTurns({
      grid: o.grid,
      wakeups: o.wakeups,
      log: o.log,
      callTimeoutMs: o.callTimeoutMs,
      isLocal: o.isLocal,
      isCurrent: (act) => this.isCurrent(act),
      enqueue: (act, env) => {
        act.push(env);
        this.queuedTurns++;
        this.markReady(act);
      },
    });
    this.stuckTimer = setInterval(() => this.endStuck(), STUCK_CHECK_MS);
    this.stuckTimer.unref();
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

  private isCurrent(act: Activation): boolean {
    return this.activations.isLive(act) && this.o.isLocal(act.type, act.key) && this.o.serveDelay(act.shard) !== Infinity;
  }

  private forgotten(act: Activation): void {
    if (act.remindAt === NO_WAKE && act.outboxPending === 0 && this.o.wakeups.indexed(act)) void this.wakes.releaseIndex(act);
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
    const quarantined = this.o.quarantine.quarantinedUntil(env.type, env.key);
    if (quarantined > 0) {
      env.fail({ code: 'E_UNAVAILABLE', message: `actor ${env.type}/${env.key} keeps killing its worker threads: quarantined for ${Math.ceil((quarantined - Date.now()) / 1000)} s more (its type keeps serving)` });
      return;
    }
    if (this.queuedTurns + this.outbox.pending >= this.o.maxQueued) {
      env.fail({ code: 'E_OVERLOADED', message: `node has ${this.queuedTurns} turns waiting and ${this.outbox.pending} tells undelivered; retry after a backoff` });
      return;
    }
    const act = this.activations.getOrCreate(env.type, env.key);
    if (act === undefined) {
      env.fail({ code: 'E_OVERLOADED', message: `node holds ${this.activations.size} live actors (--max-activations ${this.o.maxActivations}, --max-activation-mb), none idle; retry after a backoff` });
      return;
    }
    if (this.o.serveDelay(act.shard) === Infinity) {
      env.fail({ code: 'E_UNAVAILABLE', message: 'this node cannot confirm its cluster membership (fenced): it serves no actor until it can; retry on another node' });
      return;
    }
    act.push(env);
    this.queuedTurns++;
    this.markReady(act);
  }

  /**
   * Gives an actor a turn without a message: it fires its due reminders and
   * removes acknowledged tells from its outbox; a freshly loaded actor also
   * reports the tells it still has to deliver.
   */
  wake(type: string, key: string): void {
    if (this.stopped || !this.o.isLocal(type, key)) return;
    const act = this.activations.getOrCreate(type, key);
    if (act === undefined) this.o.wakeups.retry(type, key, shardOf(type, key), WAKE_RETRY_MS);
    else this.wakes.wake(act);
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
    // While tasks are out, in setImmediate: everything the event loop's poll
    // phase read in one go goes out together, in one task. Microtasks drain
    // after every native callback, and uWS calls back once per HTTP request
    // (and per WebSocket frame), so a microtask flush made one task, one
    // worker wake-up and one commit per request (wrk, 50 HTTP connections:
    // 23k -> 31k requests/s). With the pool idle there is nothing to batch
    // behind, so a lone call goes at once (a microtask: the check phase cost
    // it ~4 µs at 1 in flight).
    // Other callbacks may run before the flush (a placement change, a shard
    // handoff, a fence): that is safe because flush() looks at the shard's
    // state when it dispatches (fenced, under handoff), ownershipChanged()
    // takes the mail of actors that moved out of their mailboxes, and every
    // commit is version-checked. (When this was first tried, the chaos suite
    // failed with it; the causes were found elsewhere: a thread ended under
    // other actors' turns failed them with E_ACTOR_FAILED, and grid errors
    // reached handlers as E_ACTOR_FAILED; both fixed.)
    if (this.tasksOut === 0) queueMicrotask(this.flushNow);
    else setImmediate(this.flushNow);
  }

  private readonly flushNow = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** Hands ready actors to the pool, keeping at most a few tasks per thread out so mail batches up under load. */
  private flush(): void {
    if (this.ready.length === 0 || this.tasksOut >= this.o.pool.capacity()) return;
    const ready = this.ready;
    this.ready = [];
    const toLoad: Activation[] = [];
    const runnable: Activation[] = [];
    const now = Date.now();
    for (const act of ready) {
      act.ready = false;
      if (act.running !== null || act.waiting === 0) continue;
      const delay = this.o.serveDelay(act.shard);
      if (delay === Infinity) {
        this.failWaiting(act, { code: 'E_UNAVAILABLE', message: 'this node cannot confirm its cluster membership (fenced): it serves no actor until it can; retry on another node' });
        continue;
      }
      if (delay > 0) {
        this.park(act, delay);
        continue;
      }
      // Turns run on the cached record, however old: a write is version-checked at its commit, and an
      // answer that wrote nothing is checked against the grid first when the record is past the read lease.
      if (act.loaded) runnable.push(act);
      else toLoad.push(act);
    }
    if (toLoad.length > 0) this.load(toLoad);
    if (runnable.length > 0) this.dispatch(runnable);
  }

  /** Mail for a shard under handoff waits, then is dispatched as usual. */
  private park(act: Activation, delayMs: number): void {
    if (this.parked.has(act)) return;
    this.parked.add(act);
    setTimeout(() => {
      this.parked.delete(act);
      if (act.waiting > 0) this.markReady(act);
    }, delayMs + 1).unref();
  }

  private load(acts: Activation[]): void {
    // Marked busy while loading so no second load or group starts.
    for (const act of acts) act.running = [];
    const readAt = Date.now();
    this.o.grid.readRecords(acts.map((a) => ({ type: a.type, key: a.key }))).then(
      (records) => {
        for (let i = 0; i < acts.length; i++) {
          const act = acts[i]!;
          const record = records[i];
          act.running = null;
          // Existed but gone: fail its callers (left unloaded, so each call asks again); never start it afresh.
          if (isLost(record)) {
            act.loaded = false;
            this.failWaiting(act, Errors.dataLost(act.type, act.key, record.detail).toData());
            continue;
          }
          const changed = !act.loaded || act.record?.version !== record?.version;
          act.loaded = true;
          // A reload after the read lease that finds the record unchanged keeps what the node knows of it.
          if (changed) act.fresh = true;
          this.activations.setRecord(act, record);
          act.validatedAt = readAt;
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
    const runs: GroupRun[] = [];
    let turns = 0;
    const now = Date.now();
    for (const act of acts) {
      if (act.running !== null) continue;
      const before = act.waiting;
      const envs = act.take(this.o.turnsPerActorBatch);
      this.queuedTurns -= before - act.waiting;
      if (envs.length === 0) continue;
      let latestDeadline = 0;
      for (let i = 0; i < envs.length; i++) {
        const e = envs[i]!;
        // Traced: the turn's span starts at the hand-off, and the worker gets its context for the calls the turn makes.
        if (e.traceparent !== null && this.tracer !== null) startTurnSpan(this.tracer, e);
        if (e.deadline > latestDeadline) latestDeadline = e.deadline;
      }
      act.running = envs;
      const acked = act.acked.length > 0 ? act.acked : null;
      act.ackedOut = acked;
      if (acked !== null) act.acked = [];
      const run: GroupRun = {
        id: this.nextGroup++, act, envs, data: act.record?.data ?? null, acked, fresh: act.fresh,
        expectedVersion: act.record?.version ?? 0, startedAt: now, latestDeadline, thread: -1, ending: false,
      };
      this.groups.set(run.id, run);
      runs.push(run);
      turns += envs.length;
    }
    if (runs.length === 0) return;
    // Spread big batches over the threads, keep small ones whole.
    const threads = Math.max(1, this.o.pool.threadCount());
    const perTask = Math.min(MAX_TASK_TURNS, Math.max(MIN_TASK_TURNS, Math.ceil(turns / threads)));
    if (turns <= perTask) {
      this.runTask(runs);
      return;
    }
    let task: GroupRun[] = [];
    let taskTurns = 0;
    for (const run of runs) {
      task.push(run);
      taskTurns += run.envs.length;
      if (taskTurns >= perTask) {
        this.runTask(task);
        task = [];
        taskTurns = 0;
      }
    }
    if (task.length > 0) this.runTask(task);
  }

  /** The task's bytes, written from its groups (task-writer.ts); throws when arguments cannot be encoded. */
  private encodeTask(task: readonly GroupRun[], keepUntil: number): Uint8Array {
    const w = this.writer;
    w.start(keepUntil);
    for (const run of task) {
      const act = run.act;
      w.group(run.id, act.type, act.key, run.data, run.envs.length, run.acked, run.fresh);
      for (const e of run.envs) w.message(e.method, e.args, e.idem, e.caller, e.turn, e.ack, e.traceparent === null ? null : turnParent(e));
      w.endGroup();
    }
    return w.finish();
  }

  private runTask(task: GroupRun[], isolated = false): void {
    this.tasksOut++;
    // Sync work past the latest deadline in the batch can only be a stuck handler.
    let latest = 0;
    for (const run of task) latest = Math.max(latest, run.latestDeadline);
    const timeoutMs = Math.max(1, latest - Date.now()) + TASK_GRACE_MS;
    if (TRACE_LATENCY) this.traceDispatch(task);
    let running: Promise<TaskResult>;
    try {
      running = this.o.pool.runEncoded(this.encodeTask(task, latest + PASSING_KEY_MARGIN_MS), timeoutMs);
    } catch (err) {
      running = Promise.reject(encodeFailed(err));
    }
    running.then(
      ([done, deferred, thread, timing]) => {
        this.tasksOut--;
        if (TRACE_LATENCY && timing !== undefined) this.traceReturn(done, timing);
        for (const id of deferred) {
          const run = this.groups.get(id);
          if (run !== undefined) run.thread = thread;
        }
        this.completeAll(done);
        this.scheduleFlush();
      },
      (err: unknown) => {
        this.tasksOut--;
        // The worker died (process.exit, a crash) or was terminated (a stuck handler): nothing
        // was committed, so every actor in the batch still has its old state.
        const cause = err instanceof Error ? err.message : String(err);
        if (err instanceof TaskThreadEnded) {
          // Ended under these turns for another actor's stuck one: they run again, answered by that run.
          this.o.log.log('info', 'task_rerun', { reason: cause, groups: task.length });
          for (const run of task) this.rerun(run.id);
          this.scheduleFlush();
          return;
        }
        this.o.log.log('warn', 'task_failed', { error: cause, groups: task.length, isolated, ...traceFields(this.traceparentsOf(task)) });
        if (!isolated && task.length > 1) {
          // One bad actor must not fail the others that shared its batch: run each group on its own once.
          for (const run of task) this.runTask([run], true);
        } else {
          // Data that could not cross to or from the thread is that call's fault, not a sign the type kills its threads.
          if (!(err instanceof TaskDataError)) for (const run of task) this.workerFailed(run.act.type, run.act.key);
          const error: ErrorData = err instanceof TaskDataError ? err.data : err instanceof TaskTimeout
            ? { code: 'E_TIMEOUT', message: `${cause}; the actor's state is unchanged` }
            : { code: 'E_ACTOR_FAILED', message: `the worker thread running this turn stopped (${cause}); the actor's state is unchanged` };
          for (const run of task) this.abandon(run.id, error);
        }
        this.scheduleFlush();
      },
    );
  }

  /** The trace contexts of a task's calls, for its log lines. */
  private *traceparentsOf(task: readonly GroupRun[]): Iterable<string | null> {
    for (const run of task) for (const env of run.envs) yield env.traceparent;
  }

  private traceDispatch(task: readonly GroupRun[]): void {
    const at = stamp();
    for (const run of task) for (const env of run.envs) if (env.trace !== null) env.trace.dispatched = at;
  }

  private traceReturn(done: readonly GroupResult[], [workerIn, workerOut]: readonly [number, number]): void {
    const at = stamp();
    for (const r of done) {
      for (const env of this.groups.get(r[0])?.envs ?? []) {
        if (env.trace === null) continue;
        env.trace.workerIn = workerIn;
        env.trace.workerOut = workerOut;
        env.trace.returned = at;
      }
    }
  }

  /**
   * A worker thread is gone. The groups still running in it will never
   * answer; only now, with the thread that could run their turns dead, are
   * their actors free for their next message.
   */
  threadGone(thread: number): void {
    for (const [groupId, run] of this.groups) {
      if (run.thread !== thread) continue;
      // Only the turn that ran past its deadline is at fault; the others shared its thread.
      if (run.ending) this.workerFailed(run.act.type, run.act.key);
      this.abandon(groupId, run.ending
        ? { code: 'E_TIMEOUT', message: 'the turn ran past its deadline; its worker thread was ended and replaced; the actor\'s state is unchanged' }
        : { code: 'E_UNAVAILABLE', message: 'the worker thread running this turn stopped; the actor\'s state is unchanged; retry' });
    }
    this.scheduleFlush();
  }

  /** A worker thread died running this actor's turns alone: the key may be poison, the type may be broken. */
  private workerFailed(type: string, key: string): void {
    if (this.o.quarantine.failed(type, key)) this.o.breakers.record(type, false);
  }

  /**
   * Single writer: a group still awaiting something past its deadline (plus
   * a grace) has its worker thread ended, not merely forgotten, so its
   * handler cannot go on beside the actor's next turn. Its actor is released
   * when the thread is gone (threadGone).
   */
  private endStuck(): void {
    const now = Date.now();
    for (const run of this.groups.values()) {
      if (run.thread < 0 || run.ending || now <= run.latestDeadline + TASK_GRACE_MS) continue;
      run.ending = true;
      this.o.log.log('warn', 'turn_stuck', { type: run.act.type, key: run.act.key, ageMs: now - run.startedAt, thread: run.thread, ...traceFields(run.envs.map((e) => e.traceparent)) });
      if (!this.o.pool.terminate(run.thread)) this.threadGone(run.thread);
    }
  }

  /** A group that reported over the side channel after its task answered. */
  deferredResult(result: GroupResult): void {
    this.completeAll([result]);
    this.scheduleFlush();
  }

  /** A group that reported after its task answered, with a result that could not be read: nothing is committed. */
  deferredFailed(groupId: number, error: ErrorData): void {
    this.abandon(groupId, error);
    this.scheduleFlush();
  }

  private abandon(groupId: number, error: ErrorData): void {
    const run = this.groups.get(groupId);
    if (run === undefined) return;
    this.groups.delete(groupId);
    this.restoreAcks(run.act);
    if (this.tracer !== null) failTurnSpans(run.envs, error);
    for (const env of run.envs) env.fail(error);
    this.release(run.act);
  }

  /** Puts a group that committed nothing back at the head of its actor's mailbox, to run again. */
  private rerun(groupId: number): void {
    const run = this.groups.get(groupId);
    if (run === undefined) return;
    this.groups.delete(groupId);
    this.restoreAcks(run.act);
    this.queuedTurns += run.act.putBack(run.envs);
    this.release(run.act);
  }

  private restoreAcks(act: Activation): void {
    if (act.ackedOut !== null) act.acked = act.ackedOut.concat(act.acked);
    act.ackedOut = null;
  }

  private release(act: Activation): void {
    act.running = null;
    act.lastActive = Date.now();
    if (act.waiting > 0) this.markReady(act);
  }

  /**
   * Results of one task (or one deferred group): groups that changed nothing
   * answer at once; the others' records go to the grid as one group commit,
   * and each answers when its own write has an outcome.
   */
  private completeAll(done: readonly GroupResult[]): void {
    let runs: GroupRun[] | null = null;
    let results: GroupResult[] | null = null;
    let unverified: [GroupRun, GroupResult][] | null = null;
    const now = Date.now();
    for (const result of done) {
      const run = this.groups.get(result[0]);
      if (run === undefined || run.ending) continue; // abandoned, or its thread being ended: a late result must not be applied
      run.thread = -1;
      if (this.tracer !== null) endTurnSpans(run.envs, result[2]);
      if (result[1] === null) {
        // Wrote nothing, so no commit will check the record it read: past the read lease, ask the grid first.
        if (now - run.act.validatedAt > this.o.readLeaseMs) {
          (unverified ??= []).push([run, result]);
          continue;
        }
        this.groups.delete(result[0]);
        this.finish(run, result);
        continue;
      }
      (runs ??= []).push(run);
      (results ??= []).push(result);
    }
    if (unverified !== null) this.verifyReads(unverified);
    if (runs === null) return;
    const r = results!;
    const rs = runs;
    const submittedAt = Date.now();
    const commitAt = this.tracer === null ? 0 : performance.now();
    void this.commits.commit(rs, r).then(({ writes, outcomes }) => {
      if (this.tracer !== null) commitSpans(this.tracer, rs, outcomes, commitAt, performance.now());
      for (let i = 0; i < rs.length; i++) this.committed(rs[i]!, r[i]!, writes[i]!.data, outcomes[i]!, submittedAt);
      this.scheduleFlush();
    });
  }

  /**
   * Groups that wrote nothing on a record cached past the read lease: their
   * answers go out only once the grid confirms the record's version (one
   * read per task). A record that moved on is taken and the turns run again
   * on it, as after a conflict; so no read answers from a record older than
   * the lease, while writes never pay this read (their commit checks).
   */
  private verifyReads(pairs: readonly [GroupRun, GroupResult][]): void {
    const readAt = Date.now();
    this.o.grid.readRecords(pairs.map(([run]) => ({ type: run.act.type, key: run.act.key }))).then(
      (records) => {
        for (let i = 0; i < pairs.length; i++) {
          const [run, result] = pairs[i]!;
          if (this.groups.get(result[0]) !== run) continue;
          this.groups.delete(result[0]);
          const act = run.act;
          const record = records[i];
          if (isLost(record)) {
            act.loaded = false;
            for (const env of run.envs) env.fail(Errors.dataLost(act.type, act.key, record.detail).toData());
            this.release(act);
            continue;
          }
          if ((record?.version ?? 0) === (act.record?.version ?? 0)) {
            act.validatedAt = readAt;
            this.finish(run, result);
            continue;
          }
          this.restoreAcks(act);
          this.adoptRecord(act, record);
          act.validatedAt = readAt;
          this.queuedTurns += act.putBack(run.envs);
          this.release(act);
        }
        this.scheduleFlush();
      },
      (err: unknown) => {
        const error = toErrorData(err, 'E_UNAVAILABLE');
        for (const [run, result] of pairs) {
          if (this.groups.get(result[0]) !== run) continue;
          this.groups.delete(result[0]);
          this.restoreAcks(run.act);
          for (const env of run.envs) env.fail(error);
          this.release(run.act);
        }
        this.scheduleFlush();
      },
    );
  }

  private committed(run: GroupRun, result: GroupResult, data: Uint8Array, outcome: WriteOutcome, submittedAt: number): void {
    const groupId = result[0];
    if (this.groups.get(groupId) !== run) return;
    this.groups.delete(groupId);
    const act = run.act;
    if (outcome.ok) {
      if (FAILPOINTS_ON) failpoint('after-commit');
      this.activations.setRecord(act, { version: outcome.version, data });
      act.validatedAt = submittedAt;
      act.conflicts = 0;
      this.finish(run, result);
      return;
    }
    this.restoreAcks(act);
    if (!outcome.conflict) {
      // Outcome unknown (the write may have landed): reload before the next turn; callers may retry with their idem key.
      act.forgetRecord();
      const error = outcome.error.code === 'E_ACTOR_FAILED' ? { code: 'E_UNAVAILABLE' as const, message: outcome.error.message } : outcome.error;
      for (const env of run.envs) env.fail(error);
      this.release(act);
      return;
    }
    // Someone else wrote this actor: re-run the same turns on what the grid holds now.
    act.conflicts++;
    this.adoptRecord(act, outcome.current);
    act.validatedAt = submittedAt;
    if (act.conflicts > MAX_CONFLICT_RETRIES) {
      this.o.log.log('warn', 'conflict_retries_exhausted', { type: act.type, key: act.key, ...traceFields(run.envs.map((e) => e.traceparent)) });
      for (const env of run.envs) env.fail({ code: 'E_UNAVAILABLE', message: 'the actor is being written elsewhere; retry after a backoff' });
      act.conflicts = 0;
      this.release(act);
      return;
    }
    this.queuedTurns += act.putBack(run.envs);
    // Still busy while it waits, so no other group of this actor starts meanwhile.
    setTimeout(() => this.release(act), Math.random() * CONFLICT_JITTER_MS);
  }

  /** Takes a record another writer committed: it may hold tells and reminders this node has not seen. */
  private adoptRecord(act: Activation, current: VersionedRecord | undefined): void {
    this.activations.setRecord(act, current);
    act.loaded = current !== undefined;
    act.fresh = true;
  }

  private finish(run: GroupRun, result: GroupResult): void {
    const act = run.act;
    const [, , results, tells, events, outboxLow, outboxPending, remindAt] = result;
    this.turnsRun += results.length;
    this.o.breakers.record(act.type, true);
    if (remindAt !== WAKE_UNKNOWN) {
      act.fresh = false;
      act.ackedOut = null;
      act.outboxLow = outboxLow;
      act.outboxPending = outboxPending;
      // Tells wait in memory (delivery retries them); reminders wait in the node's clock. Set again after
      // every group of an actor with reminders: a wake-up that ran before they were due took the clock's entry.
      if (remindAt !== NO_WAKE || act.remindAt !== NO_WAKE) this.o.wakeups.schedule(act.type, act.key, act.shard, remindAt);
      act.remindAt = remindAt;
    } else {
      this.restoreAcks(act);
    }
    for (let i = 0; i < run.envs.length; i++) run.envs[i]!.settle(results[i]!);
    if (tells.length > 0 && this.isCurrent(act)) this.outbox.deliver(act, tells);
    if (events.length > 0) this.o.onEvents(act.type, act.key, events);
    this.release(act);
  }

  /**
   * Forgets idle actors (their state is in the grid). An idle actor that needs nothing from the
   * wake index any more has its entry removed, once the record shows it is
   * still the version that needs nothing.
   */
  private sweep(): void {
    const now = Date.now();
    this.activations.sweep(now);
  }

  /**
   * Shard ownership moved. Cached records may now be stale (another node may
   * have written while it owned them), so every actor reloads before its next
   * turn; mail that arrived here for actors now owned elsewhere goes to their
   * owners. Calls other nodes sent here stay: the sender decided.
   */
  ownershipChanged(): void {
    const moved: Envelope[] = [];
    for (const act of [...this.activations.values()]) {
      act.forgetRecord();
      if (this.o.isLocal(act.type, act.key)) continue;
      const keep: Envelope[] = [];
      for (const env of act.take(Number.MAX_SAFE_INTEGER)) {
        this.queuedTurns--;
        if (env.forwarded) keep.push(env);
        else if (env.method === WAKE) env.settle([1, null] as TurnResult);
        else moved.push(env);
      }
      if (keep.length > 0) {
        this.queuedTurns += act.putBack(keep);
      } else if (act.running === null) {
        this.activations.drop(act);
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
    this.wakes.close();
    clearInterval(this.stuckTimer);
    this.outbox.close();
    const error: ErrorData = { code: 'E_UNAVAILABLE', message: 'node stopped; retry on another node' };
    for (const act of this.activations.values()) this.failWaiting(act, error);
    for (const groupId of [...this.groups.keys()]) this.abandon(groupId, error);
    this.activations.clear();
  }
}
