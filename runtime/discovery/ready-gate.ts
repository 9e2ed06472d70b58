export type ReadyOutcome = 'ready' | 'timeout' | 'closed';

/**
 * What `start()` waits on: settles once, when self is first listed (`open`),
 * when the deadline passes, or when `close()` gives up on it (`abandon`).
 */
export class ReadyGate {
  #settle: ((outcome: ReadyOutcome) => void) | undefined;

  wait(timeoutMs: number): Promise<ReadyOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle('timeout'), timeoutMs);
      const settle = (outcome: ReadyOutcome) => {
        clearTimeout(timer);
        this.#settle = undefined;
        resolve(outcome);
      };
      this.#settle = settle;
    });
  }

  get waiting(): boolean {
    return this.#settle !== undefined;
  }

  open(): void {
    this.#settle?.('ready');
  }

  abandon(): void {
    this.#settle?.('closed');
  }
}
