/**
 * Issue 14's acceptance run: 100,000 records produced, three nodes consuming
 * one topic in one consumer group on a shared Hazelcast grid, one node killed
 * with SIGKILL part-way and a fourth added meanwhile. Kafka rebalances the
 * partitions (the dead consumer's after its session times out), the cluster
 * moves the dead node's shards, records the dead node had read but not
 * committed are read again by others, and every balance must still be exactly
 * what was produced: none lost, none applied twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { startHazelcast, type HazelcastFixture } from './fixtures/hazelcast.js';
import { startKafka, type KafkaFixture } from './fixtures/kafka.js';
import { spawnNode, type NodeProcess } from './fixtures/node-process.js';
import { freePort } from './fixtures/transport-kit.js';
import { until } from './fixtures/until.js';

const RECORDS = 100_000;
const ACCOUNTS = 400;
const PARTITIONS = 12;
const TOPIC = 'deposits-cluster';
const SECRET = 'stream-cluster-test-secret';

interface Slot {
  readonly id: string;
  readonly port: number;
  readonly link: number;
}

async function balances(http: string, keys: readonly string[]): Promise<number[]> {
  const out: number[] = [];
  // 50 at a time: a check, not a load.
  for (let i = 0; i < keys.length; i += 50) {
    out.push(...(await Promise.all(keys.slice(i, i + 50).map(async (k) => {
      const r = await fetch(`${http}/v1/actors/Account/${encodeURIComponent(k)}/balance`, { method: 'POST', body: '[]', headers: { 'content-type': 'application/json' } });
      return ((await r.json()) as { value?: number }).value ?? Number.NaN;
    }))));
  }
  return out;
}

async function applied(http: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith('troupe_stream_records_total{') && line.includes('outcome="applied"')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function members(http: string): Promise<string[]> {
  const r = await fetch(`${http}/health/ready`, { signal: AbortSignal.timeout(2000) });
  return ((await r.json()) as { cluster?: { members?: string[] } }).cluster?.members ?? [];
}

describe('three nodes consume one topic; one killed, one added', () => {
  let kafka: KafkaFixture;
  let hz: HazelcastFixture;
  let producer: Producer;
  let client: Kafka;
  const slots: Slot[] = [];
  const nodes = new Map<string, NodeProcess>();

  before(async () => {
    [kafka, hz] = await Promise.all([startKafka(), startHazelcast({ members: 1 })]);
    client = new Kafka({ clientId: 'stream-cluster-test', brokers: [...kafka.brokers], logLevel: logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }], waitForLeaders: true });
    await admin.disconnect();
    producer = client.producer();
    await producer.connect();
    for (const id of ['n1', 'n2', 'n3', 'n4']) slots.push({ id, port: await freePort(), link: await freePort() });
  });

  after(async () => {
    await Promise.all([...nodes.values()].map((n) => n.stop()));
    await producer?.disconnect().catch(() => {});
    await Promise.all([kafka?.stop(), hz?.stop()]);
  });

  // Every slot is listed from the start: n4 is "down" to the others' probes until it starts.
  const start = (slot: Slot): Promise<NodeProcess> =>
    spawnNode([
      '--node-id', slot.id, '--port', String(slot.port), '--link-port', String(slot.link),
      '--discovery', 'static', '--peers', slots.map((s) => `${s.id}@127.0.0.1:${s.port}/${s.link}`).join(','),
      '--grid', 'hazelcast', '--hazelcast-cluster', hz.clusterName, '--hazelcast-members', hz.addresses.join(','),
      '--stream', `kafka:${kafka.bootstrap}:${TOPIC}:Account.deposit`,
    ], { TROUPE_CLUSTER_SECRET: SECRET });

  test(`${RECORDS.toLocaleString('en')} records: every balance exact after a SIGKILL and a join`, { timeout: 240_000 }, async () => {
    for (const slot of slots.slice(0, 3)) nodes.set(slot.id, await start(slot));
    const n1 = nodes.get('n1')!;
    await until('three members', () => members(n1.http), (m) => m.length === 3, 30_000);

    const started = Date.now();
    const expected = new Map<string, number>();
    for (let i = 0; i < RECORDS; i += 2_000) {
      const messages = [];
      for (let j = i; j < Math.min(RECORDS, i + 2_000); j++) {
        const key = `cl-${j % ACCOUNTS}`;
        const amount = 1 + ((j * 7919) % 997);
        expected.set(key, (expected.get(key) ?? 0) + amount);
        messages.push({ key, value: JSON.stringify(amount) });
      }
      await producer.send({ topic: TOPIC, messages });
    }
    const producedMs = Date.now() - started;

    const progress = async (): Promise<number> => (await Promise.all([...nodes.values()].map((n) => applied(n.http).catch(() => 0)))).reduce((a, b) => a + b, 0);
    const atKill = await until('a quarter applied', progress, (n) => n >= RECORDS / 4, 120_000);
    nodes.get('n2')!.kill('SIGKILL');
    await nodes.get('n2')!.exited();
    nodes.delete('n2');
    const killedAt = Date.now();
    nodes.set('n4', await start(slots[3]!));
    const joinedAt = Date.now();

    const keys = [...expected.keys()];
    const want = [...expected.values()].reduce((a, b) => a + b, 0);
    const sum = async (): Promise<number> => (await balances(n1.http, keys)).reduce((a, b) => a + b, 0);
    await until('every record applied', sum, (s) => s >= want, 180_000);
    const doneAt = Date.now();
    const got = await balances(n1.http, keys);
    const wrong = keys.filter((k, i) => got[i] !== expected.get(k));
    assert.deepEqual(wrong, [], `balances differ from what was produced: ${wrong.slice(0, 5).map((k) => `${k} ${got[keys.indexOf(k)]} != ${expected.get(k)}`).join(', ')}`);
    const perNode = Object.fromEntries(await Promise.all([...nodes].map(async ([id, n]) => [id, await applied(n.http)] as const)));
    console.log(`# ${RECORDS} records produced in ${producedMs} ms; n2 killed at ${atKill} applied (${killedAt - started} ms), n4 started ${joinedAt - killedAt} ms later; all exact ${doneAt - started} ms after the first record (${Math.round(RECORDS / ((doneAt - started) / 1000))} records/s overall); applied by the live nodes since their start: ${JSON.stringify(perNode)}`);
  });
});
