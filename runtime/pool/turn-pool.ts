/**
 * Host side of a turn pool: a piscina pool of workers running batches of
 * turns, plus the side channel those workers use to call other actors and the
 * grid while a turn is running.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { Packr } from 'msgpackr';
import { Piscina } from 'piscina';
import { toErrorData } from '../../protocol/errors.js';
import type { IdemRetention } from '../record.js';
import type { DownMessage, GridOp, GroupResult, TaskGroup, TaskResult, UpMessage, WorkerSettings } from './protocol.js';
import { downChannel, tight, upChannel } from './protocol.js';

export interface TurnPoolOptions {
  readonly name: string;
  readonly modules: readonly string[];
  readonly minThreads: number;
  readonly maxThreads: number;
  readonly callTimeoutMs: number;
  readonly idem: IdemRetention;
}

/** What the pool needs from the node to serve its workers' requests. */
export interface TurnPoolHost {
  call(msg: Extract<UpMessage, { k: 'call' }>): Promise<unknown>;
  grid(op: GridOp, name: string, args: readonly unknown[]): Promise<unknown>;
  /** A group that finished after its task had answered. */
  deferredResult(result: GroupResult): void;
}

const packr = new Packr({ useRecords: false, moreTypes: true });

/** A task ran past its deadline and its worker thread was terminated. */
export class TaskTimeout extends Error {
  override name = 'TaskTimeout';
  constructor(readonly ms: number) {
    super(`the turn ran past its deadline (${ms} ms); its worker thread was replaced`);
  }
}

export class TurnPool {
  private readonly pool: Piscina;
  private readonly up: BroadcastChannel;
  private readonly down: BroadcastChannel;
  private closed = false;
  private busyMs = 0;
  private windowStart = performance.now();

  constructor(readonly options: TurnPoolOptions, private readonly host: TurnPoolHost) {
    const channel = `troupe:${options.name}:${randomBytes(6).toString('hex')}`;
    const workerData: WorkerSettings = {
      modules: options.modules,
      channel,
      callTimeoutMs: options.callTimeoutMs,
      idem: options.idem,
    };
    this.pool = new Piscina({
      filename: new URL('./worker-entry.cjs', import.meta.url).href,
      workerData,
      minThreads: options.minThreads,
      maxThreads: options.maxThreads,
      // Workers must keep their event loop running between tasks: turns awaiting
      // other actors resume there. 'sync' atomics would block it.
      atomics: 'disabled',
      // Two tasks per worker hide the hand-off gap; more only deepens the queue.
      concurrentTasksPerWorker: 2,
      idleTimeout: 30_000,
      // piscina's timing histograms cost more per task than a whole batch of
      // turns on the main thread; utilization is measured here instead.
      recordTiming: false,
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
   * Runs a batch of turns. A task still running after `timeoutMs` (a handler
   * stuck in a loop) has its worker thread terminated; piscina starts a fresh
   * one, and the task rejects with a TaskTimeout error.
   */
  async run(groups: readonly TaskGroup[], timeoutMs: number): Promise<TaskResult> {
    const task = tight(packr.pack(groups));
    const started = performance.now();
    const signal = AbortSignal.timeout(Math.max(1, timeoutMs));
    let result: Uint8Array;
    try {
      result = (await this.pool.run(task, { transferList: [task.buffer as ArrayBuffer], signal })) as Uint8Array;
    } catch (err) {
      if (signal.aborted) throw new TaskTimeout(timeoutMs);
      throw err;
    }
    // Time a task spends queued in piscina counts as busy too: the pool had no thread for it.
    this.busyMs += performance.now() - started;
    return packr.unpack(result) as TaskResult;
  }

  private onUp(msg: UpMessage): void {
    if (this.closed) return;
    if (msg.k === 'done') {
      this.host.deferredResult(packr.unpack(msg.result) as GroupResult);
      return;
    }
    const reply = (m: DownMessage): void => {
      if (!this.closed) this.down.postMessage(m);
    };
    const work = msg.k === 'call' ? this.host.call(msg) : this.host.grid(msg.op, msg.name, msg.args);
    work.then(
      (value) => reply({ k: 'reply', w: msg.w, id: msg.id, ok: true, value }),
      (err: unknown) => reply({ k: 'reply', w: msg.w, id: msg.id, ok: false, error: toErrorData(err, 'E_ACTOR_FAILED') }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.up.close();
    this.down.close();
    await this.pool.destroy();
  }
}
