/**
 * Which Kafka client should Troupe's intake use? One bounded measurement: a
 * real broker (runtime/cli/kafka/) on loopback, one 6-partition topic of
 * BENCH_KAFKA_RECORDS small JSON records (default 100,000) written once, then
 * each client reads the whole topic in a fresh consumer group from the
 * earliest offset, one run each, on the same broker and topic. Records/s is
 * counted from the consumer's start (group join included, as the intake pays
 * it too) to the last record. No offsets are committed: this is the bare read.
 *
 *   npx tsc -p . && node dist/bench/kafka/consumer-compare.js
 *
 * Prints one line per client and a JSON summary on stdout.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { startBroker } from '../../runtime/cli/kafka/broker.js';
import { bareKafkajsRead } from './bare-read.js';

const require = createRequire(import.meta.url);
/** A package's installed version (read from its folder: not every package exports its package.json). */
function packageVersion(name: string): string {
  const entry = require.resolve(name);
  const dir = entry.slice(0, entry.indexOf(`node_modules/${name}/`) + `node_modules/${name}/`.length);
  return (JSON.parse(readFileSync(`${dir}package.json`, 'utf8')) as { version: string }).version;
}

const RECORDS = Number(process.env.BENCH_KAFKA_RECORDS ?? 100_000);
const PARTITIONS = 6;
const TOPIC = 'bench';
/** Every run ends by this time, read or not: the bench must never hang a shared machine. */
const RUN_LIMIT_MS = 120_000;

interface Row {
  readonly client: string;
  readonly records: number;
  readonly seconds: number;
  readonly perSecond: number;
}

async function produce(brokers: string[]): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-producer', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const batch = 5_000;
  for (let i = 0; i < RECORDS; i += batch) {
    const n = Math.min(batch, RECORDS - i);
    await producer.send({ topic: TOPIC, messages: Array.from({ length: n }, (_, j) => ({ key: `account-${(i + j) % 50}`, value: JSON.stringify((i + j) % 100) })) });
  }
  await producer.disconnect();
}

async function readWithKafkajs(brokers: string[]): Promise<Row> {
  const r = await bareKafkajsRead(brokers, TOPIC, RECORDS, 'bench-kafkajs', RUN_LIMIT_MS);
  return { client: `kafkajs ${packageVersion('kafkajs')}`, ...r };
}

async function readWithPlatformatic(brokers: string[]): Promise<Row> {
  const consumer = new Consumer({ clientId: 'bench-platformatic', groupId: 'bench-platformatic', bootstrapBrokers: brokers, deserializers: stringDeserializers, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const started = performance.now();
  let seen = 0;
  const stream = await consumer.consume({ topics: [TOPIC], mode: MessagesStreamModes.EARLIEST, autocommit: false });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`@platformatic/kafka read ${seen} of ${RECORDS} in ${RUN_LIMIT_MS} ms`)), RUN_LIMIT_MS);
    stream.on('error', reject);
    stream.on('data', (m) => {
      JSON.parse(m.value);
      seen++;
      if (seen >= RECORDS) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const seconds = (performance.now() - started) / 1000;
  await stream.close();
  await consumer.close();
  return { client: `@platformatic/kafka ${packageVersion('@platformatic/kafka')}`, records: seen, seconds, perSecond: seen / seconds };
}

async function main(): Promise<void> {
  const broker = await startBroker({ tieToParent: true });
  try {
    const brokers = [broker.bootstrap];
    process.stderr.write(`[kafka-bench] broker on ${broker.bootstrap}; writing ${RECORDS} records to ${PARTITIONS} partitions\n`);
    await produce(brokers);
    const rows: Row[] = [];
    for (const read of [readWithKafkajs, readWithPlatformatic]) {
      const row = await read(brokers);
      rows.push(row);
      process.stderr.write(`[kafka-bench] ${row.client}: ${row.records} records in ${row.seconds.toFixed(2)} s = ${Math.round(row.perSecond)} records/s\n`);
    }
    process.stdout.write(JSON.stringify({ node: process.version, records: RECORDS, partitions: PARTITIONS, rows }, null, 2) + '\n');
  } finally {
    await broker.stop();
  }
}

await main();
