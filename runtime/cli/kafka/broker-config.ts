/**
 * The server.properties of a single-process Kafka (KRaft: one JVM is both
 * broker and controller) on loopback, for tests and local scripts. Every
 * internal topic has replication factor 1, since there is only one broker;
 * without that, group coordination and transactions wait for replicas that
 * never come.
 */
import { randomBytes } from 'node:crypto';

export interface BrokerPorts {
  /** Clients' listener (PLAINTEXT). */
  readonly port: number;
  /** The KRaft controller's listener. */
  readonly controllerPort: number;
}

const HOST = '127.0.0.1';

export function brokerProperties(ports: BrokerPorts, logDir: string): string {
  const p = ports.port;
  const c = ports.controllerPort;
  const lines: [string, string | number][] = [
    ['process.roles', 'broker,controller'],
    ['node.id', 1],
    ['controller.quorum.voters', `1@${HOST}:${c}`],
    ['listeners', `PLAINTEXT://${HOST}:${p},CONTROLLER://${HOST}:${c}`],
    ['advertised.listeners', `PLAINTEXT://${HOST}:${p}`],
    ['controller.listener.names', 'CONTROLLER'],
    ['inter.broker.listener.name', 'PLAINTEXT'],
    ['listener.security.protocol.map', 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT'],
    ['log.dirs', logDir],
    ['num.partitions', 1],
    ['offsets.topic.replication.factor', 1],
    // The offsets topic's default 50 partitions cost seconds of start-up on a small machine; a few are plenty here.
    ['offsets.topic.num.partitions', 4],
    ['transaction.state.log.replication.factor', 1],
    ['transaction.state.log.min.isr', 1],
    ['share.coordinator.state.topic.replication.factor', 1],
    ['share.coordinator.state.topic.min.isr', 1],
    // A consumer group forms at once instead of waiting 3 s for more members.
    ['group.initial.rebalance.delay.ms', 0],
    ['auto.create.topics.enable', 'false'],
  ];
  return lines.map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding (what
 * `kafka-storage random-uuid` prints). One in 64 of those starts with '-',
 * which the storage tool's argument parser reads as an option ("argument
 * --cluster-id/-t: expected one argument"): drawn again, as Kafka's own
 * Uuid.randomUuid() does for the same reason.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
