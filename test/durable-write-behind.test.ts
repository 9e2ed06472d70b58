/**
 * The durable tier (issue #9), write-behind: the same crash of every member
 * at once as durable-write-through.test.ts, with the members storing changes
 * in batches. What is lost is measured, and must be younger than the stated
 * recovery point; nothing may be applied twice.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCrashAll } from './durable/crash-all.js';
import { describeReport, WRITE_BEHIND_RPO_MS } from './durable/report.js';

test(`every member killed at once under load, write-behind: what a crash of every member loses is measured and younger than the recovery point (${WRITE_BEHIND_RPO_MS} ms)`, { timeout: 300_000 }, async (t) => {
  const report = await runCrashAll({ mode: 'write-behind', beforeSeconds: 6, afterSeconds: 3, seed: 11, progress: (m) => t.diagnostic(m) }, WRITE_BEHIND_RPO_MS);
  for (const line of describeReport(report)) t.diagnostic(line);
  const c = report.counters;
  assert.ok(c.acked > 200, 'the load made progress before the crash');
  assert.ok(c.oldestLostAgeMs === null || c.oldestLostAgeMs <= WRITE_BEHIND_RPO_MS, `an increment acknowledged ${c.oldestLostAgeMs} ms before the crash was lost (recovery point ${WRITE_BEHIND_RPO_MS} ms)`);
  assert.deepEqual(c.overApplied, [], 'increments applied twice');
  assert.deepEqual(c.phaseTwoMismatch, []);
  assert.deepEqual(report.transfers.oldCompletedLost, [], `transfers completed more than ${WRITE_BEHIND_RPO_MS} ms before the crash must survive`);
});
