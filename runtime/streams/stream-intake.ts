/**
 * Streams in: an engine reads an external log (Kafka) and turns each record
 * into a call to an actor, routed like a client's call. The node sees only
 * this interface; each engine lives in a folder of its own (streams/kafka/)
 * and is loaded only when configured, so a node without `--stream` never
 * loads a Kafka client.
 *
 * The rule every engine keeps (exactly-once effects over at-least-once
 * delivery): a record's call carries an idempotency key made of its position
 * in the log, and the log position is committed only after that call, and
 * every call before it in the same partition, was answered, i.e. after its
 * turn committed. A record read twice (a crash before the commit, a
 * rebalance) is answered from the actor's record instead of applied again.
 */
import type { TurnResult } from '../pool/protocol.js';
import type { CallRequest } from '../router.js';
import type { Logger } from '../log.js';
import type { StreamSpec } from './stream-spec.js';

export interface PartitionLag {
  readonly topic: string;
  readonly partition: number;
  /** Records in the partition past the last committed position. */
  readonly lag: number;
}

/** What happened to records since start, per topic: for /metrics and the tests. */
export interface IntakeCounts {
  /** Calls answered ok (including redeliveries answered from the record). */
  applied: number;
  /** Records that could not become a call (no key, value not JSON): logged and committed past. */
  skipped: number;
  /** Calls the actor refused (E_ACTOR_FAILED and other final errors): logged and committed past. */
  failed: number;
  /** Deliveries sent again after a retryable error (E_OVERLOADED, E_UNAVAILABLE, E_TIMEOUT, ...). */
  retries: number;
  /** Times a partition was paused for backpressure. */
  pauses: number;
}

/**
 * The consumer group all nodes of one cluster share for a topic (nodes
 * sharing a grid are one cluster): the node joins it, `troupe cluster
 * autoscale` reads its lag.
 */
export function streamGroupId(cluster: string, topic: string): string {
  return `troupe.${cluster}.${topic}`;
}

export interface StreamIntake {
  readonly spec: StreamSpec;
  /** Begins reading in the background (connecting, joining the group, retried until stop); resolves at once. */
  start(): void;
  /** Stops reading, lets calls in flight settle (bounded), commits what was answered, leaves the group. */
  stop(timeoutMs?: number): Promise<void>;
  lag(): readonly PartitionLag[];
  readonly counts: Readonly<IntakeCounts>;
}

/** What an intake needs from its node. */
export interface IntakeHost {
  /** Routes a call like a client's (to the owner's node) and resolves with its answer. */
  call(req: CallRequest): Promise<TurnResult>;
  /** Turns waiting node-wide and the bound past which the intake pauses (backpressure before E_OVERLOADED). */
  backlog(): { queued: number; limit: number };
  /** Consumer group name all nodes of this cluster share for a topic. */
  groupId(topic: string): string;
  readonly log: Logger;
}

export async function createStreamIntake(spec: StreamSpec, host: IntakeHost): Promise<StreamIntake> {
  switch (spec.engine) {
    case 'kafka': {
      const { KafkaIntake } = await import('./kafka/kafka-intake.js');
      return new KafkaIntake(spec, host);
    }
  }
}
