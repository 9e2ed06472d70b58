import type { Logger } from '../log.js';

/**
 * Discovery: which Troupe nodes are alive right now, and how to reach them.
 *
 * The runtime talks to this interface only; `static` (a fixed peer list with
 * optional HTTP health probes) and `consul` (a real Consul agent) implement it
 * side by side, and configuration picks one (see `engines.ts`). Every engine
 * runs the same contract suite (`test/discovery-contract.ts`).
 *
 * What the runtime may rely on, whatever the engine:
 * - `members()` holds only members whose health is passing, sorted by id, self
 *   included while it is healthy and has not left. Two nodes that see the same
 *   health therefore compute the same list, element by element.
 * - Listeners are called only when the list really changed (a member came or
 *   went, or one of its fields changed), with the new list, in order.
 * - A member that crashes disappears within a bounded time that depends on the
 *   engine's intervals (measured figures in each engine's doc comment).
 */

/** One Troupe node as discovery sees it. Objects handed out by an engine are frozen. */
export interface Member {
  /** Node id, unique in the cluster: letters, digits and `_ . : [ ] -`, at most 128 characters. */
  readonly id: string;
  /** Address other nodes and the health checker use to reach this node (a host name or an IP, no brackets). */
  readonly address: string;
  /** Gateway port: clients connect here, and it serves `GET /health/ready`. */
  readonly port: number;
  /** Port of the node-to-node link. */
  readonly linkPort: number;
  /** Failure zone (rack, availability zone), for placement that spreads replicas. */
  readonly zone?: string;
  /** Free-form labels. Keys: letters, digits, `_` and `-`; `linkPort` and `zone` are reserved. */
  readonly meta?: Readonly<Record<string, string>>;
}

export interface Discovery {
  /** Engine name as chosen by configuration (`static`, `consul`). */
  readonly engine: string;

  /**
   * Registers `self` and starts watching. Resolves once the first member list
   * is known and includes `self` (that is, once `self` is healthy, so call it
   * after the gateway answers `/health/ready` with 200). Rejects with code
   * E_UNAVAILABLE when the agent is unreachable, when self is not healthy
   * within the engine's ready timeout, or when `close()` is called first; a
   * TypeError names a bad field of `self`. Call once per instance.
   */
  start(self: Member): Promise<void>;

  /** Current live members (health passing), sorted by id (string order), including self while healthy and not left. */
  members(): readonly Member[];

  /**
   * Calls `listener` with the new list on every change, deduplicated: only when
   * the set of ids or a member's fields changed. Not called with the current
   * list on subscription; read `members()` for that. A listener that throws is
   * logged and does not stop the others. Returns an unsubscribe function.
   */
  onChange(listener: (members: readonly Member[]) => void): () => void;

  /**
   * Until when (epoch ms) this node's own membership is confirmed: the moment
   * its liveness was last renewed (sent, not answered: the earliest it can
   * have counted), plus `leaseMs`, a share of the TTL after which the others
   * may count it gone. Past it the node must stop acting as an owner: its
   * shards may already be someone else's (a paused process, a lost agent, a
   * cut network). Infinity for engines whose members do not expire.
   */
  confirmedUntil(): number;

  /**
   * How long one renewal confirms a member (0 for engines whose members do
   * not expire). A node that gains shards because a member disappeared waits
   * this long before serving them, so the member, if it is only paused or
   * cut off, has stopped acting as their owner by then.
   */
  readonly leaseMs: number;

  /**
   * Graceful drain: deregisters self so the other nodes drop it promptly, but
   * keeps watching (this node still needs to know where actors move to).
   * Self leaves this node's own list at once. Idempotent.
   */
  leave(): Promise<void>;

  /**
   * Silences the listeners and empties `members()` at once, then leaves if
   * still registered and stops every timer, watch and socket. Idempotent
   * (concurrent calls share one close); never rejects.
   */
  close(): Promise<void>;
}

/**
 * Engines log through the runtime's structured logger (`runtime/log.ts`, which
 * adds the node id). Without one they write warnings and errors to stderr.
 */
export type { Logger } from '../log.js';

/** The fallback logger: one JSON line on stderr per warning or error, with the node id once known; info is dropped. */
export function warningsToStderr(node: () => string | undefined): Logger {
  return {
    log(level, event, fields) {
      if (level !== 'warn' && level !== 'error') return;
      process.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), level, node: node(), component: 'discovery', event, ...fields })}\n`);
    },
  };
}
