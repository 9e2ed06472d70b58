/**
 * The Kafka broker of `troupe cluster up --kafka`: one KRaft process in the
 * run folder (runtime/cli/kafka/ starts it), detached so it outlives the
 * command, recorded in the state file like every other process, and the topic
 * a `--kafka-stream` names created before any node subscribes to it (the
 * broker does not create topics on demand, so every node sees the partition
 * count asked for, not a default of one).
 */
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, fetchKafkaLibs } from '../kafka/broker.js';
import type { Detail } from '../steps.js';
import { isOurProcess, terminate, type StopOutcome } from './processes.js';

export interface KafkaRecord {
  readonly pid: number;
  readonly port: number;
  /** `127.0.0.1:<port>`, as `--stream` lists brokers. */
  readonly bootstrap: string;
  readonly dir: string;
  readonly log: string;
}

/** What `--kafka-stream TOPIC:Type.method` asked for: one topic, the actor method each record becomes. */
export interface ClusterStream {
  readonly topic: string;
  readonly target: string;
  readonly partitions: number;
}

/** The broker drains its logs to disk on SIGTERM; a few seconds is plenty for a local one. */
const BROKER_GRACE_MS = 10_000;

export async function startClusterBroker(dir: string, detail: Detail, onLaunched?: (r: KafkaRecord) => void): Promise<KafkaRecord> {
  const libs = await fetchKafkaLibs(detail);
  const b = await startBroker({ libs, dir: join(dir, 'kafka'), tieToParent: false });
  const record: KafkaRecord = { pid: b.pid, port: b.port, bootstrap: b.bootstrap, dir: b.dir, log: b.log };
  onLaunched?.(record);
  return record;
}

/** Creates the stream's topic with its partition count unless it exists (a restarted broker keeps its topics). */
export async function createStreamTopic(bootstrap: string, s: ClusterStream): Promise<'created' | 'exists'> {
  const admin = new Kafka({ clientId: 'troupe-cluster', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(s.topic)) return 'exists';
    await admin.createTopics({ topics: [{ topic: s.topic, numPartitions: s.partitions }], waitForLeaders: true });
    return 'created';
  } finally {
    await admin.disconnect();
  }
}

/** The `--stream` flag every node of the cluster is given for `s`. */
export function streamFlag(k: KafkaRecord, s: ClusterStream): string[] {
  return ['--stream', `kafka:${k.bootstrap}:${s.topic}:${s.target}`];
}

export function isOurBroker(k: KafkaRecord): boolean {
  // The marks broker-process.ts puts on the broker's command line: its main class and its own properties file.
  return isOurProcess(k.pid, [['kafka.Kafka', join(k.dir, 'server.properties')]]);
}

export async function stopClusterBroker(k: KafkaRecord): Promise<StopOutcome> {
  return isOurBroker(k) ? terminate(k.pid, BROKER_GRACE_MS) : 'gone';
}
