/**
 * The durable tier (issue #9), write-through: three Hazelcast members with
 * PostgreSQL behind them, two Troupe nodes driving Counter.add and bank
 * Transfer sagas, every member killed with SIGKILL at once and started again.
 * Every acknowledged increment and every completed transfer must be there,
 * none applied twice, money unchanged; then a record deleted by hand from the
 * IMap and from PostgreSQL must give E_DATA_LOST, not a fresh actor.
 * Real PostgreSQL (test/fixtures/postgres.ts), real members, real nodes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCrashAll } from './durable/crash-all.js';
import { lostRecordIsReported } from './durable/lost-record.js';
import { describeReport } from './durable/report.js';

test('every member killed at once under load, write-through: every acknowledged Counter.add and completed Transfer survives, none twice, money unchanged; a record deleted by hand gives E_DATA_LOST', { timeout: 300_000 }, async (t) => {
  const report = await runCrashAll({ mode: 'write-through', beforeSeconds: 6, afterSeconds: 3, seed: 9, progress: (m) => t.diagnostic(m), alsoWhileUp: lostRecordIsReported }, 0);
  for (const line of describeReport(report)) t.diagnostic(line);
  const c = report.counters;
  assert.ok(c.acked > 200 && report.transfers.completedBeforeCrash > 5, 'the load made progress before the crash');
  assert.deepEqual(c.belowAcked, [], 'acknowledged increments lost');
  assert.equal(c.keysMissing, 0);
  assert.deepEqual(c.overApplied, [], 'increments applied twice');
  assert.deepEqual(c.phaseTwoMismatch, []);
  assert.ok(c.phaseTwoAcked > 0, 'the counters work again after the restart');
  assert.deepEqual(report.transfers.oldCompletedLost, []);
  assert.equal(report.money.final, report.money.initial);
  assert.deepEqual(report.violations.map((v) => `${v.kind}: ${v.detail}`), []);
});
