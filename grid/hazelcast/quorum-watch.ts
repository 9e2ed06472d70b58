/**
 * Whether the members this client reaches are refusing work for want of
 * their split-brain quorum (the cut-off side of a partition). Such a node
 * answers every write E_UNAVAILABLE, so it should also say "not ready":
 * a load balancer or Kubernetes then sends its clients to the majority side.
 *
 * Learned from answers, not asked: the client has no call that says "my
 * members are in a minority". So: not ready from a refusal until the next
 * operation that succeeds. A node taken out of rotation gets no traffic that
 * could prove it healthy again, and an open grid breaker sends none either,
 * so while it refuses the grid probes on its own (QuorumProbe): readiness
 * holds steady through the cut instead of flapping back after a quiet spell.
 */
import { IndeterminateOperationStateError, SplitBrainProtectionError } from 'hazelcast-client';

export class QuorumWatch {
  private lastRefusalAt = 0;
  private lastSuccessAt = 0;
  private lastReason = '';

  /** Called with every failure an operation ended in; true when it was a refusal. */
  failed(err: unknown, now = Date.now()): boolean {
    const cause = (err as { cause?: unknown } | null)?.cause ?? err;
    if (cause instanceof SplitBrainProtectionError) this.refused(now, 'its members are below their split-brain quorum (cut off from the majority)');
    // A write whose synchronous backup never answered: the member lost its peers.
    else if (cause instanceof IndeterminateOperationStateError) this.refused(now, "a write's backup never answered (the members may be cut off from each other)");
    else return false;
    return true;
  }

  succeeded(now = Date.now()): void {
    this.lastSuccessAt = now;
  }

  /** Why the grid should not be called ready now, or undefined. */
  refusing(now = Date.now()): string | undefined {
    if (this.lastRefusalAt <= this.lastSuccessAt) return undefined;
    return `${this.lastReason}; ${now - this.lastRefusalAt} ms ago, no operation has succeeded since`;
  }

  private refused(now: number, reason: string): void {
    this.lastRefusalAt = now;
    this.lastReason = reason;
  }
}

/**
 * While the watch says "refusing", runs one cheap quorum-protected read every
 * `everyMs` (through the grid's guard, so its outcome feeds the watch), and
 * stops at the first success or when closed. One probe in flight at most.
 */
export class QuorumProbe {
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;

  constructor(
    private readonly watch: QuorumWatch,
    private readonly probe: () => Promise<unknown>,
    private readonly everyMs = 1000,
  ) {}

  /** Called after a refusal: starts probing unless it already is. */
  arm(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.watch.refusing() === undefined) {
      this.stop();
      return;
    }
    if (this.inFlight) return;
    this.inFlight = true;
    this.probe()
      .catch(() => {}) // the guard already told the watch
      .finally(() => {
        this.inFlight = false;
      });
  }
}
