/**
 * `--stream kafka:...`: records of a real Kafka topic become Account.deposit
 * calls, exactly once. The balances must equal what was produced, to the cent:
 * none lost (every record is committed only after its turn), none twice (a
 * record read again after a crash carries the same idem key and is answered
 * from the actor's record).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import type { TroupeNode } from '../runtime/node.js';
import { startHazelcast, type HazelcastFixture } from './fixtures/hazelcast.js';
import { startKafka, type KafkaFixture } from './fixtures/kafka.js';
import { startNode } from './fixtures/node.js';
import { spawnNode, type NodeProcess } from './fixtures/node-process.js';
import { until } from './fixtures/until.js';

const ACCOUNTS = 50;
const PARTITIONS = 6;

let kafka: KafkaFixture;
let client: Kafka;
let producer: Producer;

before(async () => {
  kafka = await startKafka();
  client = new Kafka({ clientId: 'stream-test', brokers: [...kafka.brokers], logLevel: logLevel.NOTHING });
  producer = client.producer();
  await producer.connect();
});

after(async () => {
  await producer?.disconnect().catch(() => {});
  await kafka?.stop();
});

async function createTopic(topic: string, partitions = PARTITIONS): Promise<void> {
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
}

/** Produces `count` deposits keyed over ACCOUNTS accounts (amounts 1..97) and returns what each account must end with. */
async function produceDeposits(topic: string, count: number, prefix: string, expected = new Map<string, number>()): Promise<Map<string, number>> {
  const batch = 1_000;
  for (let i = 0; i < count; i += batch) {
    const messages = [];
    for (let j = i; j < Math.min(count, i + batch); j++) {
      const key = `${prefix}-${j % ACCOUNTS}`;
      const amount = 1 + ((j * 7) % 97);
      expected.set(key, (expected.get(key) ?? 0) + amount);
      messages.push({ key, value: JSON.stringify(amount) });
    }
    await producer.send({ topic, messages });
  }
  return expected;
}

async function balanceOf(http: string, key: string): Promise<number> {
  const r = await fetch(`${http}/v1/actors/Account/${encodeURIComponent(key)}/balance`, { method: 'POST', body: '[]', headers: { 'content-type': 'application/json' } });
  const body = (await r.json()) as { value?: number };
  return body.value ?? Number.NaN;
}

async function totalOf(http: string, expected: Map<string, number>): Promise<number> {
  let sum = 0;
  for (const key of expected.keys()) sum += await balanceOf(http, key);
  return sum;
}

const sumOf = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

/** The value of one sample of /metrics, e.g. `troupe_stream_records_total{...,outcome="applied"}`. */
async function metric(http: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    found = true;
  }
  return found ? sum : Number.NaN;
}

async function assertExact(http: string, expected: Map<string, number>): Promise<void> {
  for (const [key, want] of expected) assert.equal(await balanceOf(http, key), want, `balance of ${key}`);
}

describe('one node on its own grid', () => {
  let node: TroupeNode;
  const topic = 'deposits-one';
  let http = '';

  before(async () => {
    await createTopic(topic);
    node = await startNode(['--stream', `kafka:${kafka.bootstrap}:${topic}:Account.deposit`]);
    http = `http://127.0.0.1:${node.port}`;
  });

  after(async () => {
    await node?.stop();
  });

  test('5,000 records over 50 accounts: every balance is exactly what was produced; bad records are skipped and counted', { timeout: 90_000 }, async () => {
    const started = Date.now();
    const expected = await produceDeposits(topic, 5_000, 'one');
    // Records the intake must skip without stopping: no key, a value that is not JSON.
    await producer.send({ topic, messages: [{ key: null, value: '1' }, { key: 'one-0', value: '{not json' }] });
    await until('applied records', () => metric(http, 'troupe_stream_records_total', { topic, outcome: 'applied' }), (n) => n >= 5_000, 60_000);
    const seconds = (Date.now() - started) / 1000;
    await assertExact(http, expected);
    assert.equal(await metric(http, 'troupe_stream_records_total', { topic, outcome: 'skipped' }), 2);
    assert.equal(await metric(http, 'troupe_stream_records_total', { topic, outcome: 'applied' }), 5_000);
    // Every partition committed to its end.
    await until('lag', () => metric(http, 'troupe_stream_lag', { topic }), (n) => n === 0, 10_000);
    console.log(`# intake: 5000 records applied in ${seconds.toFixed(1)} s (${Math.round(5000 / seconds)} records/s, produce and group join included)`);
  });
});

describe('a node killed with SIGKILL mid-stream, on a Hazelcast grid', () => {
  let hz: HazelcastFixture;
  let node: NodeProcess | undefined;
  const topic = 'deposits-kill';

  before(async () => {
    hz = await startHazelcast({ members: 1 });
    await createTopic(topic);
  });

  after(async () => {
    await node?.stop();
    await hz?.stop();
  });

  const flags = (): string[] => [
    '--grid', 'hazelcast',
    '--hazelcast-cluster', hz.clusterName,
    '--hazelcast-members', hz.addresses.join(','),
    '--stream', `kafka:${kafka.bootstrap}:${topic}:Account.deposit`,
  ];

  test('killed part-way and restarted: no record lost, none applied twice', { timeout: 90_000 }, async () => {
    node = await spawnNode(flags());
    const expected = await produceDeposits(topic, 5_000, 'kill');
    const before = await until('some records applied', () => metric(node!.http, 'troupe_stream_records_total', { topic, outcome: 'applied' }), (n) => n >= 2_000, 30_000);
    node.kill('SIGKILL');
    await node.exited();
    assert.ok(before < 5_000, `the node was killed before the end (${before} applied)`);
    // More records while it is down: the restarted node reads them after the ones it had not committed.
    await produceDeposits(topic, 1_000, 'kill', expected);
    node = await spawnNode(flags());
    await until('totals', () => totalOf(node!.http, expected), (n) => n === sumOf(expected), 60_000);
    await assertExact(node.http, expected);
    console.log(`# killed after ${before} applied; after the restart this node applied ${await metric(node.http, 'troupe_stream_records_total', { topic, outcome: 'applied' })} (redeliveries answered from the record included)`);
  });
});

describe('backpressure: a node with a small backlog bound', () => {
  let node: TroupeNode;
  const topic = 'deposits-pressure';
  let http = '';

  before(async () => {
    await createTopic(topic);
    // 8 turns waiting node-wide: the intake's 6 partitions x 64 in flight would pass it at once without pausing.
    node = await startNode(['--max-queued', '8', '--stream', `kafka:${kafka.bootstrap}:${topic}:Account.deposit`]);
    http = `http://127.0.0.1:${node.port}`;
  });

  after(async () => {
    await node?.stop();
  });

  test('partitions pause instead of flooding the node, and nothing is dropped', { timeout: 90_000 }, async () => {
    const expected = await produceDeposits(topic, 2_000, 'pressure');
    await until('applied records', () => metric(http, 'troupe_stream_records_total', { topic, outcome: 'applied' }), (n) => n >= 2_000, 60_000);
    await assertExact(http, expected);
    const pauses = await metric(http, 'troupe_stream_records_total', { topic, outcome: 'pauses' });
    const retries = await metric(http, 'troupe_stream_records_total', { topic, outcome: 'retries' });
    assert.ok(pauses > 0, `the intake paused (pauses ${pauses}, retries ${retries})`);
    assert.equal(await metric(http, 'troupe_stream_records_total', { topic, outcome: 'failed' }), 0);
    console.log(`# backpressure: ${pauses} pauses, ${retries} resends after E_OVERLOADED or the like`);
  });
});

describe('lag while a partition is held up', () => {
  let node: TroupeNode;
  const topic = 'lag-held';
  let http = '';

  before(async () => {
    await createTopic(topic, 1);
    node = await startNode(['--stream', `kafka:${kafka.bootstrap}:${topic}:Log.dawdle`]);
    http = `http://127.0.0.1:${node.port}`;
  });

  after(async () => {
    await node?.stop();
  });

  test('records produced behind a slow batch show in the lag gauge before that batch ends', { timeout: 60_000 }, async () => {
    // Three 3 s turns of one key: its partition's batch runs ~9 s, and kafkajs fetches nothing more for it meanwhile.
    await producer.send({ topic, messages: [3000, 3000, 3000].map((ms) => ({ key: 'slow', value: JSON.stringify(ms) })) });
    await until('the batch under way', () => metric(http, 'troupe_stream_lag', { topic }), (n) => n >= 1, 10_000);
    const heldSince = Date.now();
    await producer.send({ topic, messages: Array.from({ length: 50 }, () => ({ key: 'quick', value: '0' })) });
    // Within one end-offset read (5 s), well before the slow batch is done.
    const lag = await until('lag past the new records', () => metric(http, 'troupe_stream_lag', { topic }), (n) => n >= 50, 7_000);
    const slowDone = await metric(http, 'troupe_stream_records_total', { topic, outcome: 'applied' });
    assert.ok(!(slowDone >= 3), `the slow batch was still under way when the lag showed ${lag} (${slowDone} applied, ${Date.now() - heldSince} ms)`);
    await until('all applied', () => metric(http, 'troupe_stream_records_total', { topic, outcome: 'applied' }), (n) => n === 53, 30_000);
    await until('lag back to 0', () => metric(http, 'troupe_stream_lag', { topic }), (n) => n === 0, 10_000);
  });
});
