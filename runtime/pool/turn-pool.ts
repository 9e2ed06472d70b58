/**
 * Host side of a turn pool: a piscina pool of workers running batches of
 * turns, plus the side channel those workers use to call other actors and the
 * grid while a turn is running.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { Packr, Unpackr } from 'msgpackr';
import { Piscina } from 'piscina';
import { isErrorCode, toErrorData, type ErrorData } from '../../protocol/errors.js';
import type { IdemRetention } from '../idem-keys.js';
import type { DownMessage, GridOp, GroupResult, Task, TaskGroup, TaskResult, UpMessage, WorkerSettings } from './protocol.js';
import { downChannel, tight, upChannel } from './protocol.js';
import { DeadlineWheel } from '../deadline-wheel.js';
import { TaskDeadline } from './task-deadline.js';

export interface TurnPoolOptions {
  readonly name: string;
  readonly modules: readonly string[];
  readonly minThreads: number;
  readonly maxThreads: number;
  readonly callTimeoutMs: number;
  readonly idem: IdemRetention;
  readonly incarnation: string;
}

/** What the pool needs from the node to serve its workers' requests. */
export interface TurnPoolHost {
  call(msg: Extract<UpMessage, { k: 'call' }>): Promise<unknown>;
  /** A turn's hot-data request; `thread` is the worker thread it came from (locks are held for it). */
  grid(op: GridOp, name: string, args: readonly unknown[], thread: number): Promise<unknown>;
  /** A group that finished after its task had answered. */
  deferredResult(result: GroupResult): void;
  /** A group that finished after its task had answered, but whose result could not be read. */
  deferredFailed(group: number, error: ErrorData): void;
  /** A worker thread is gone (it crashed, exited, or was terminated): the turns still running in it will never answer. */
  threadGone(thread: number): void;
}

const packr = new Packr({ useRecords: false, moreTypes: true });
/**
 * Results are read with their byte strings copied out (copyBuffers): a
 * group's new record then owns its bytes, so the commit keeps it as it is,
 * where a view into the whole result buffer had to be copied there anyway
 * (one view and one copy per committed group, now one copy).
 */
const resultReader = new Unpackr({ useRecords: false, moreTypes: true, copyBuffers: true });

/** A task ran past its deadline and its worker thread was terminated. */
export class TaskTimeout extends Error {
  override name = 'TaskTimeout';
  constructor(readonly ms: number) {
    super(`the turn ran past its deadline (${ms} ms); its worker thread was replaced`);
  }
}

/**
 * A task whose data could not cross the thread boundary: arguments the host
 * cannot encode, a task the worker cannot decode, results the host cannot
 * decode (nested past a thread's stack, say). The thread is fine: it is not
 * a crash and must not count as one.
 */
export class TaskDataError extends Error {
  override name = 'TaskDataError';
  constructor(readonly data: ErrorData) {
    super(data.message);
  }
}

/**
 * A task's thread was ended by the pool itself while the task ran in it:
 * the thread also held an awaiting turn of another actor that ran past its
 * deadline (terminate). This task's turns are not at fault and committed
 * nothing; they are run again, never answered as failed (a tell answered so
 * would count as delivered and be lost).
 */
export class TaskThreadEnded extends Error {
  override name = 'TaskThreadEnded';
  constructor(cause: string) {
    super(`the worker thread was ended under this task to stop another actor's stuck turn (${cause})`);
  }
}

const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A task whose arguments could not be encoded: the caller's fault (E_BAD_REQUEST), not the thread's. */
export function encodeFailed(err: unknown): TaskDataError {
  return new TaskDataError({ code: 'E_BAD_REQUEST', message: `the call's arguments could not be encoded for a worker (${reason(err)})` });
}

export class TurnPool {
  private readonly pool: Piscina;
  private readonly up: BroadcastChannel;
  private readonly down: BroadcastChannel;
  private closed = false;
  /** Threads this pool is ending itself (terminate), until they have exited. */
  private readonly ending = new Set<import('node:worker_threads').Worker>();
  /**
   * Exits of threads this pool ended, counted: a task whose thread died while this moved may
   * have been in one. Counted at the exit, not at terminate(): until it has exited, piscina still
   * gives the ending thread new tasks.
   */
  private endedExits = 0;
  private readonly watched = new Set<import('node:worker_threads').Worker>();
  private busyMs = 0;
  private windowStart = performance.now();
  /** Deadlines of the tasks in flight; a deadline fires up to one resolution (10 ms) late. */
  private readonly deadlines = new DeadlineWheel<TaskDeadline>(10);

  constructor(readonly options: TurnPoolOptions, private readonly host: TurnPoolHost) {
    const channel = `troupe:${options.name}:${randomBytes(6).toString('hex')}`;
    const workerData: WorkerSettings = {
      modules: options.modules,
      channel,
      callTimeoutMs: options.callTimeoutMs,
      idem: options.idem,
      incarnation: options.incarnation,
    };
    this.pool = new Piscina({
      filename: new URL('./worker-entry.cjs', import.meta.url).href,
      workerData,
      minThreads: options.minThreads,
      maxThreads: options.maxThreads,
      // Workers must keep their event loop running between tasks: turns awaiting
      // other actors resume there. 'sync' atomics would block it.
      atomics: 'disabled',
      // In effect one task per worker at a time: every task carries a deadline (a signal), and
      // piscina's balancer gives an abortable task only to a worker running nothing. The tasks the
      // scheduler keeps out beyond the threads (capacity()) wait in piscina's queue, posted the
      // moment a worker answers.
      concurrentTasksPerWorker: 2,
      idleTimeout: 30_000,
      // piscina's timing histograms cost more per task than a whole batch of
      // turns on the main thread; utilization is measured here instead.
      recordTiming: false,
    });
    // A thread's id reads -1 once it has exited, so each is captured while the thread is alive.
    this.pool.on('workerCreate', () => {
      for (const worker of this.pool.threads) {
        if (this.watched.has(worker)) continue;
        this.watched.add(worker);
        const thread = worker.threadId;
        worker.once('exit', () => {
          this.watched.delete(worker);
          // piscina's own exit listener (added first) has failed the thread's tasks by now; their
          // rejections are seen after this, so they find the count moved.
          if (this.ending.delete(worker)) this.endedExits++;
          if (!this.closed) this.host.threadGone(thread);
        });
      }
    });
    this.up = new BroadcastChannel(upChannel(channel));
    this.down = new BroadcastChannel(downChannel(channel));
    this.up.onmessage = (event) => this.onUp((event as unknown as { data: UpMessage }).data);
  }

  /**
   * Threads running now, how busy the pool was (0..1) since the last call,
   * and tasks queued inside piscina. For metrics scrapes, not the hot path.
   */
  stats(): { threads: number; utilization: number; queued: number } {
    const now = performance.now();
    const threads = this.pool.threads.length;
    const window = (now - this.windowStart) * Math.max(1, threads);
    const utilization = window > 0 ? Math.min(1, this.busyMs / window) : 0;
    this.windowStart = now;
    this.busyMs = 0;
    return { threads, utilization, queued: this.pool.queueSize };
  }

  /** Cheap: used on every dispatch to size tasks. */
  threadCount(): number {
    return this.pool.threads.length;
  }

  /** Task slots the pool can take without queueing inside piscina. */
  capacity(): number {
    // One task more than the running threads can hold: piscina only starts a
    // new thread (up to maxThreads) when a task has to queue, so a limit at
    // exactly the current threads' slots would pin the pool at its minimum.
    return Math.max(1, this.pool.threads.length) * 2 + (this.pool.threads.length < this.options.maxThreads ? 1 : 0);
  }

  /**
   * Resolves once the pool's first threads have loaded the actor modules (an
   * empty task each). The node waits for it before it listens: otherwise the
   * first calls pay for thread start and module loading, seconds on a busy
   * machine, inside their own deadlines.
   */
  async warm(timeoutMs: number): Promise<void> {
    const threads = Math.max(1, this.options.minThreads);
    await Promise.all(Array.from({ length: threads }, () => this.run([], timeoutMs)));
  }

  /**
   * Runs a batch of turns. A task still running after `timeoutMs` (a handler
   * stuck in a loop) has its worker thread terminated; piscina starts a fresh
   * one, and the task rejects with a TaskTimeout error.
   */
  async run(groups: readonly TaskGroup[], timeoutMs: number, keepUntil = Date.now() + timeoutMs): Promise<TaskResult> {
    let task: Uint8Array;
    try {
      task = tight(packr.pack([keepUntil, groups] satisfies Task));
    } catch (err) {
      throw encodeFailed(err);
    }
    return this.runEncoded(task, timeoutMs);
  }

  /** `run()` of a task already encoded (task-writer.ts); `task` must own its whole buffer: it is transferred. */
  async runEncoded(task: Uint8Array, timeoutMs: number): Promise<TaskResult> {
    const started = performance.now();
    const exitsBefore = this.endedExits;
    const deadline = new TaskDeadline(timeoutMs);
    this.deadlines.add(deadline, Date.now() + Math.max(1, timeoutMs));
    let result: Uint8Array;
    try {
      result = (await this.pool.run(task, { transferList: [task.buffer as ArrayBuffer], signal: deadline })) as Uint8Array;
    } catch (err) {
      if (deadline.aborted) throw new TaskTimeout(timeoutMs);
      // The worker refuses a task it cannot decode with plain error data; a thread that died throws an Error.
      if (err !== null && typeof err === 'object' && !(err instanceof Error) && isErrorCode((err as { code?: unknown }).code)) throw new TaskDataError(toErrorData(err));
      // piscina does not say which thread ran the task: a thread death during which a thread this
      // pool ended exited counts as that. A task that really killed its thread does so again when
      // run again, and is answered as such unless the pool happens to end another thread just then.
      if (this.endedExits !== exitsBefore && err instanceof Error) throw new TaskThreadEnded(err.message);
      throw err;
    } finally {
      this.deadlines.remove(deadline);
    }
    // Time a task spends queued in piscina counts as busy too: the pool had no thread for it.
    this.busyMs += performance.now() - started;
    try {
      return resultReader.unpack(result) as TaskResult;
    } catch (err) {
      throw new TaskDataError({ code: 'E_ACTOR_FAILED', message: `the turns' results could not be decoded (${reason(err)}); the actor's state is unchanged` });
    }
  }

  /**
   * Ends a worker thread (a turn in it ran past its deadline and must not go
   * on beside the actor's next one). piscina starts a fresh thread; the host
   * hears `threadGone` once this one has exited. False when no such thread runs.
   */
  terminate(thread: number): boolean {
    const worker = this.pool.threads.find((w) => w.threadId === thread);
    if (worker === undefined) return false;
    this.ending.add(worker);
    void worker.terminate();
    return true;
  }

  private onUp(msg: UpMessage): void {
    if (this.closed) return;
    if (msg.k === 'done') {
      let result: GroupResult;
      try {
        result = resultReader.unpack(msg.result) as GroupResult;
      } catch (err) {
        // Thrown here it would be uncaught (a channel callback) and end the process.
        this.host.deferredFailed(msg.group, { code: 'E_ACTOR_FAILED', message: `the turns' results could not be decoded (${reason(err)}); the actor's state is unchanged` });
        return;
      }
      this.host.deferredResult(result);
      return;
    }
    const reply = (m: DownMessage): void => {
      if (!this.closed) this.down.postMessage(m);
    };
    const work = msg.k === 'call' ? this.host.call(msg) : this.host.grid(msg.op, msg.name, msg.args, msg.w);
    work.then(
      (value) => reply({ k: 'reply', w: msg.w, id: msg.id, ok: true, value }),
      // An error without a code of ours is the grid's or the node's (a member gone, a connection
      // lost), never the callee's handler: transient. E_ACTOR_FAILED here would read as a business
      // refusal, final, to a saga or a handler that retries only transient failures.
      (err: unknown) => reply({ k: 'reply', w: msg.w, id: msg.id, ok: false, error: toErrorData(err, 'E_UNAVAILABLE') }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deadlines.close();
    this.up.close();
    this.down.close();
    await this.pool.destroy();
  }
}
