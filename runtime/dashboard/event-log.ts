/**
 * The dashboard's "recent changes": membership, failover and breaker events
 * with their times. They are taken from the node's own structured log (the
 * cluster and the breakers already log every such change), so nothing new
 * runs where they happen; a Set lookup per log line is the whole cost.
 */
import type { Logger } from '../log.js';

export interface DashEvent {
  /** Epoch ms. */
  readonly t: number;
  readonly level: string;
  readonly event: string;
  readonly text: string;
}

/** Log events worth showing, with how each reads on the page (a Map: no inherited names like `constructor`). */
const SHOWN = new Map<string, (f: Record<string, unknown>) => string>(Object.entries({
  placement: (f) => `members now ${(f.members as string[] | undefined)?.join(', ') ?? '?'}; ${f.moved ?? 0} shards moved`,
  peer_down: (f) => `link to ${f.peer} down`,
  peer_up: (f) => `link to ${f.peer} up`,
  fenced: () => 'this node is fenced (membership not confirmed within its lease)',
  unfenced: () => 'this node is confirmed again',
  grid_breaker: (f) => `grid breaker ${f.state}`,
  actor_breaker: (f) => `breaker of ${f.type} (${f.bulkhead}) ${f.state}`,
  grid_reset: () => 'the grid came back as a new cluster',
  draining: () => 'this node is draining',
  cluster_joined: (f) => `joined the cluster (${(f.members as string[] | undefined)?.length ?? '?'} members)`,
} satisfies Record<string, (f: Record<string, unknown>) => string>));

export class EventLog {
  private readonly ring: DashEvent[] = [];

  constructor(private readonly max = 50) {}

  /** A logger that writes to `inner` and keeps the events the dashboard shows. */
  tee(inner: Logger): Logger {
    return {
      log: (level, event, fields) => {
        inner.log(level, event, fields);
        const text = SHOWN.get(event);
        if (text !== undefined) this.add(level, event, text(fields ?? {}));
      },
    };
  }

  /** Records an event the dashboard itself saw (a peer that stopped answering). */
  add(level: string, event: string, text: string, t = Date.now()): void {
    this.ring.push({ t, level, event, text });
    if (this.ring.length > this.max) this.ring.shift();
  }

  /** Newest first. */
  recent(): DashEvent[] {
    return this.ring.slice().reverse();
  }
}
