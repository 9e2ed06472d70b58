/**
 * The bare read a Troupe intake is compared with: kafkajs `eachBatch` in a
 * fresh consumer group from the earliest offset, each value JSON-parsed, no
 * offsets committed, until `records` have been seen (bounded by `limitMs`).
 * Records/s is counted from the consumer's start, group join included, as
 * the intake pays it too.
 */
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';

export interface BareRead {
  readonly records: number;
  readonly seconds: number;
  readonly perSecond: number;
}

export async function bareKafkajsRead(brokers: readonly string[], topic: string, records: number, groupId: string, limitMs: number): Promise<BareRead> {
  const kafka = new Kafka({ clientId: groupId, brokers: [...brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000 });
  const started = performance.now();
  let seen = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kafkajs read ${seen} of ${records} in ${limitMs} ms`)), limitMs);
      void consumer.run({
        autoCommit: false,
        // eachBatch: kafkajs's fastest path, and the one an intake that commits per partition would use.
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            JSON.parse(m.value!.toString());
            seen++;
          }
          if (seen >= records) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  const seconds = (performance.now() - started) / 1000;
  return { records: seen, seconds, perSecond: seen / seconds };
}
