/**
 * `troupe cluster up --kafka-stream` and `troupe cluster autoscale` end to
 * end, through the real CLI: Consul, one Hazelcast member, a Kafka broker and
 * one node, all started by `up`; a producer burst while the loop runs. The
 * loop must add a node while the lag is past what one node may carry, drain
 * it once the lag is gone, and every account must end exactly at what was
 * produced (nothing lost or applied twice across the add, the rebalances and
 * the drain).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TimelineEntry } from '../runtime/cli/cluster/autoscale.js';
import { readState } from '../runtime/cli/cluster/state.js';
import { clusterRunner, explain } from './fixtures/cluster-run.js';
/** A line in the test output (TAP comment), for the figures a run should show. */
const progress = (m: string): void => void process.stdout.write(`# ${m}\n`);

const run = promisify(execFile);
const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const script = (name: string): string => join(dist, 'examples', 'ingest', `${name}.js`);

const dir = mkdtempSync(join(tmpdir(), 'troupe-autoscale-'));
chmodSync(dir, 0o755);
const { cluster, killLeftovers } = clusterRunner(dir);
process.on('exit', () => void killLeftovers());
after(async () => {
  await cluster(['down', '--grace', '10000'], 60_000);
  const killed = killLeftovers();
  rmSync(dir, { recursive: true, force: true });
  if (killed.length > 0) process.stderr.write(`cluster-autoscale test: SIGKILLed leftover processes ${killed.join(', ')}\n`);
});

const TOPIC = 'payments';
const RECORDS = 30_000;
const ACCOUNTS = 200;
/** Records one node may carry: the burst is many times that, so one node is not enough by the policy. */
const LAG_TARGET = 2_000;

test('a producer burst makes the loop add a node, the drained lag makes it drain it, and every balance is exact', async () => {
  const up = await cluster(
    ['up', '--nodes', '1', '--hazelcast-members', '1', '--hazelcast-heap', '128', '--kafka-stream', `${TOPIC}:Account.deposit`, '--kafka-partitions', '6'],
    240_000,
    ['--', '--threads', '1'],
  );
  assert.equal(up.code, 0, explain(up));
  assert.match(up.stdout, /kafka +127\.0\.0\.1:\d+/);
  assert.match(up.stdout, /stream +topic payments \(6 partitions\) into Account\.deposit/);
  const state = readState(dir)!;
  const bootstrap = state.kafka!.bootstrap;

  const status = await cluster(['status', '--json'], 20_000);
  assert.equal(status.code, 0, explain(status));
  assert.equal((JSON.parse(status.stdout) as { kafka: { listening: boolean } }).kafka.listening, true);

  const scaling = cluster(
    ['autoscale', '--max-nodes', '2', '--lag-target', String(LAG_TARGET), '--interval', '500', '--cooldown', '3000', '--horizon', '5', '--until-idle', '--duration', '180', '--json'],
    240_000,
  );
  const expected = join(dir, 'expected.json');
  const produced = await run(process.execPath, [script('produce'), '--brokers', bootstrap, '--topic', TOPIC, '--count', String(RECORDS), '--accounts', String(ACCOUNTS), '--expected', expected], { timeout: 60_000 });
  const p = JSON.parse(produced.stdout) as { records: number; total: number };
  assert.equal(p.records, RECORDS);

  const scaled = await scaling;
  assert.equal(scaled.code, 0, explain(scaled));
  const lines = scaled.stdout.trim().split('\n').map((l) => JSON.parse(l) as TimelineEntry & { summary?: Record<string, number | null> });
  const summary = lines.at(-1)!.summary!;
  const timeline = lines.slice(0, -1);
  const added = timeline.findIndex((e) => e.action === 'add');
  const drained = timeline.findIndex((e) => e.action === 'drain');
  progress(`autoscale: ${JSON.stringify(summary)}; add at t=${timeline[added]?.t_s}s (lag ${timeline[added]?.lag}), drain at t=${timeline[drained]?.t_s}s`);
  assert.ok(added >= 0, `the loop never added a node:\n${scaled.stdout}`);
  assert.ok(timeline[added]!.lag! > LAG_TARGET, 'a node is added only while the lag is past what one node may carry');
  assert.ok(timeline.slice(added + 1).some((e) => e.nodes === 2), 'the cluster had 2 nodes after the add');
  assert.ok(drained > added, `the loop never drained the added node after the lag fell:\n${scaled.stdout}`);
  assert.equal(timeline[drained]!.node, 'node-2', 'the newest node is the one drained');
  assert.ok(timeline.slice(drained - 2, drained + 1).every((e) => e.lag! <= LAG_TARGET / 2), 'drained only after the lag stayed low');
  assert.equal(summary.adds, 1);
  assert.equal(summary.drains, 1);
  assert.equal(summary.failed_changes, 0);
  assert.equal(summary.nodes_at_end, 1);
  // What the group committed in all, not `applied` (committed during the loop): on a busy machine
  // the producer can be under way, and the first records applied, before the loop's first sample.
  assert.equal(timeline.at(-1)!.committed, RECORDS, 'the group committed every record once');
  assert.ok(summary.applied! > 0 && summary.applied! <= RECORDS);
  assert.equal(timeline.at(-1)!.lag, 0);

  // The node left running holds every account now (node-2's actors moved back to it).
  const node1 = readState(dir)!.nodes.find((n) => n.id === 'node-1')!;
  const checked = await run(process.execPath, [script('check'), '--url', `ws://127.0.0.1:${node1.port}/v1/ws`, '--expected', expected, '--wait', '60'], { timeout: 90_000 })
    .catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  assert.deepEqual(JSON.parse(checked.stdout), { ok: true, accounts: ACCOUNTS, total: p.total });
});
