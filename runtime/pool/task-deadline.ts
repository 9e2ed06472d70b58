/**
 * A task's deadline, in the shape piscina takes as a `signal`: when it
 * expires, piscina ends the worker thread running the task (or drops the
 * task from its queue).
 *
 * Why not `AbortSignal.timeout(ms)`: measured here at 1 in flight, each one
 * added ~45 µs to a task's round trip (a timer per task plus an EventTarget
 * listener), a third of a call's whole time in the node, and every one of
 * them stays armed until it fires, seconds later, at thousands of tasks a
 * second. These sit in a deadline wheel instead: one interval timer for all.
 */
import type { Expirable } from '../deadline-wheel.js';

export class TaskDeadline implements Expirable {
  wheelSlot = 0;
  /** Read by piscina: an aborted signal refuses the task at once. */
  aborted = false;
  reason: unknown = undefined;
  private listener: (() => void) | null = null;

  constructor(private readonly ms: number) {}

  /** piscina registers its 'abort' listener here (once per task). */
  addEventListener(_type: 'abort', listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(_type: 'abort', _listener: () => void): void {
    this.listener = null;
  }

  expire(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = new Error(`the task ran past its deadline (${this.ms} ms)`);
    const listener = this.listener;
    this.listener = null;
    listener?.();
  }
}
