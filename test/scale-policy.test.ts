/** The autoscale loop's rule (runtime/cli/cluster/scale-policy.ts) and its flags, without a cluster. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCommand, UsageError } from '../runtime/cli/cluster/options.js';
import { decide, lagRate, type LagSample, type ScalePolicy } from '../runtime/cli/cluster/scale-policy.js';

const policy: ScalePolicy = { lagTarget: 1000, minNodes: 1, maxNodes: 3, cooldownMs: 5000, horizonS: 10, rateWindowMs: 3000 };
const series = (...lags: number[]): LagSample[] => lags.map((lag, i) => ({ t: 10_000 + i * 1000, lag }));
const at = (samples: LagSample[], nodes: number, extra: { lastActionAt?: number; busy?: boolean } = {}) =>
  decide({ samples, nodes, lastActionAt: extra.lastActionAt ?? -Infinity, busy: extra.busy ?? false }, policy);

test('lag rate is measured over the window ending at the newest sample', () => {
  assert.equal(lagRate(series(0, 1000, 3000, 6000), 2000), 2500);
  assert.equal(lagRate(series(5000), 3000), 0);
  assert.equal(lagRate([], 3000), 0);
});

test('adds a node while lag is past what the nodes may carry and not falling fast enough', () => {
  assert.equal(at(series(0, 2000, 5000), 1).action, 'add', 'growing past 1 x target');
  assert.equal(at(series(9000, 8500, 8000), 1).action, 'add', 'falling at 500/s: 14 s to the target, past the 10 s horizon');
  assert.equal(at(series(9000, 6000, 3000), 1).action, 'hold', 'falling at 3000/s: under the target in under a second');
  assert.equal(at(series(0, 1500, 1900), 2).action, 'hold', 'two nodes may carry 2000');
  assert.equal(at(series(0, 9000, 20000), 3).action, 'hold', 'at --max-nodes');
});

test('drains one node only after the lag stayed low for three samples, never below --min-nodes', () => {
  assert.equal(at(series(5000, 400, 300, 200), 2).action, 'drain');
  assert.equal(at(series(400, 300, 700), 2).action, 'hold', 'one sample above half of what one node fewer may carry');
  assert.equal(at(series(300, 200), 2).action, 'hold', 'only two samples low');
  assert.equal(at(series(0, 0, 0), 1).action, 'hold', 'at --min-nodes');
});

test('waits out the cooldown and any node change under way', () => {
  assert.equal(at(series(0, 5000, 9000), 1, { lastActionAt: 9000 }).action, 'hold');
  assert.equal(at(series(0, 5000, 9000), 1, { lastActionAt: 6000 }).action, 'add');
  assert.equal(at(series(0, 5000, 9000), 1, { busy: true }).action, 'hold');
});

test('autoscale and up --kafka-stream flags are checked where they enter', () => {
  const c = parseCommand(['autoscale', '--max-nodes', '4', '--lag-target', '5000']);
  assert.ok(c.name === 'autoscale');
  assert.equal(c.options.maxNodes, 4);
  assert.equal(c.options.intervalMs, 2000);
  assert.equal(c.options.minNodes, undefined);
  assert.throws(() => parseCommand(['autoscale', '--max-nodes', '4']), (e: unknown) => e instanceof UsageError && /needs --lag-target/.test(e.message));
  assert.throws(() => parseCommand(['autoscale', '--max-nodes', '2', '--min-nodes', '3', '--lag-target', '1']), /--min-nodes must be an integer between 1 and 2/);
  const up = parseCommand(['up', '--kafka-stream', 'pay:Account.deposit', '--kafka-partitions', '6']);
  assert.ok(up.name === 'up');
  assert.deepEqual({ ...up.options.stream }, { topic: 'pay', target: 'Account.deposit', partitions: 6 });
  assert.equal(up.options.kafka, true);
  assert.throws(() => parseCommand(['up', '--kafka-stream', 'pay']), /TOPIC:Type\.method/);
  assert.throws(() => parseCommand(['up', '--kafka-partitions', '6']), /give --kafka-stream too/);
});
