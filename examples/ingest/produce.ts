/**
 * Ingest example, producer: writes payment events to a Kafka topic, keyed by
 * account, and saves what each account must end with.
 *
 *   node dist/examples/ingest/produce.js --brokers 127.0.0.1:9092 --topic payments \
 *     [--count 100000] [--accounts 500] [--expected expected.json]
 *
 * Each record: key = account id, value = the amount as JSON (an integer of
 * cents, 1..997), which a node started with
 * `--stream kafka:BROKERS:payments:Account.deposit` turns into
 * `Account(key).deposit(amount)`. The topic is created (12 partitions) when
 * missing. Prints one JSON line: records, accounts, total, seconds.
 */
import { writeFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { ingestArgs } from './args.js';

const args = ingestArgs(process.argv.slice(2), { count: 100_000, accounts: 500, expected: 'expected.json' });
const kafka = new Kafka({ clientId: 'troupe-ingest-producer', brokers: args.brokers, logLevel: logLevel.NOTHING });

const admin = kafka.admin();
await admin.connect();
const topics = await admin.listTopics();
if (!topics.includes(args.topic)) await admin.createTopics({ topics: [{ topic: args.topic, numPartitions: 12 }], waitForLeaders: true });
await admin.disconnect();

const producer = kafka.producer();
await producer.connect();
const expected: Record<string, number> = {};
let total = 0;
const started = performance.now();
const BATCH = 1000;
try {
  for (let i = 0; i < args.count; i += BATCH) {
    const messages = [];
    for (let j = i; j < Math.min(args.count, i + BATCH); j++) {
      const account = `acct-${j % args.accounts}`;
      // Deterministic amounts: a rerun with the same flags produces the same events.
      const amount = 1 + ((j * 7919) % 997);
      expected[account] = (expected[account] ?? 0) + amount;
      total += amount;
      messages.push({ key: account, value: JSON.stringify(amount) });
    }
    await producer.send({ topic: args.topic, messages });
  }
} finally {
  await producer.disconnect();
}
writeFileSync(args.expected, JSON.stringify(expected));
console.log(JSON.stringify({ records: args.count, accounts: Object.keys(expected).length, total, seconds: Math.round((performance.now() - started) / 100) / 10, expected: args.expected }));
