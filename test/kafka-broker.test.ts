/**
 * The Kafka fixture gives a real broker: a topic can be created, written and
 * read back, and stop() leaves no process and no folder behind.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { isAlive } from '../runtime/cli/hazelcast/member-process.js';
import { probeBroker } from '../runtime/cli/kafka/broker.js';
import { startKafka, type KafkaFixture } from './fixtures/kafka.js';

let kafka: KafkaFixture;

before(async () => {
  kafka = await startKafka();
});

after(async () => {
  await kafka?.stop();
});

test('a topic on the fixture broker can be created, produced to and consumed from', { timeout: 60_000 }, async () => {
  const client = new Kafka({ clientId: 'smoke', brokers: [...kafka.brokers], logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'smoke', numPartitions: 2 }], waitForLeaders: true });
  await admin.disconnect();

  const producer = client.producer();
  await producer.connect();
  await producer.send({ topic: 'smoke', messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 3}`, value: JSON.stringify(i) })) });
  await producer.disconnect();

  const consumer = client.consumer({ groupId: 'smoke-group' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'smoke', fromBeginning: true });
  const seen: number[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${seen.length} of 10 records consumed in 30 s`)), 30_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(JSON.parse(message.value!.toString()) as number);
        if (seen.length === 10) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  assert.deepEqual([...seen].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('stop() ends the broker by PID and removes its run folder', { timeout: 60_000 }, async () => {
  const other = await startKafka();
  assert.ok(await probeBroker('127.0.0.1', other.port));
  await other.stop();
  assert.equal(isAlive(other.pid), false);
  assert.equal(existsSync(other.dir), false);
});
