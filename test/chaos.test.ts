/**
 * The short chaos run for CI: 20 s of Transfer sagas on three nodes (real
 * Consul, real Hazelcast) while nodes are killed with SIGKILL and restarted.
 * The long run is `npm run chaos` (test/chaos/main.ts); both use the same
 * runner and the same checks. The checks themselves are tested first, on
 * made-up runs, so a pass of the real run means something.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRun, type Observed } from './chaos/checks.js';
import type { TransferRecord } from './chaos/load.js';
import { chaosOptions, runChaos } from './chaos/run.js';
import { formatReport } from './chaos/report.js';

describe('the chaos checks', () => {
  const accounts = ['a', 'b', 'c'];
  const transfer = (id: string, from: string, to: string, amount: number, seen: TransferRecord['seen']): TransferRecord => ({ id, from, to, amount, seen, sentAt: 0, answeredAt: 1 });
  const transfers = [transfer('t1', 'a', 'b', 30, 'completed'), transfer('t2', 'b', 'c', 500, 'failed'), transfer('t3', 'c', 'a', 10, 'error:E_UNAVAILABLE')];
  const clean = (): Observed => ({
    journalAfterSettle: [],
    statusAfterSettle: new Map([['t1', 'completed'], ['t2', 'failed'], ['t3', 'completed']]),
    finalOutcome: new Map([['t1', 'completed'], ['t2', 'failed'], ['t3', 'completed']]),
    finalStatus: new Map([['t1', 'completed'], ['t2', 'failed'], ['t3', 'completed']]),
    journalAfterRecheck: [],
    balances: new Map([['a', 80], ['b', 130], ['c', 90]]),
    resumed: new Map([['t3', ['running']]]),
  });
  const kinds = (o: Observed): string[] => checkRun({ accounts, initialBalance: 100, transfers }, o).map((v) => v.kind).sort();

  test('a run where every transfer ended once passes', () => {
    assert.deepEqual(kinds(clean()), []);
  });

  test('a completed transfer applied twice is caught, even when the total is unchanged', () => {
    assert.deepEqual(kinds({ ...clean(), balances: new Map([['a', 50], ['b', 160], ['c', 90]]) }), ['balance_mismatch', 'balance_mismatch']);
  });

  test('a withdrawal left uncompensated is caught as lost money', () => {
    assert.deepEqual(kinds({ ...clean(), balances: new Map([['a', 80], ['b', 100], ['c', 90]]) }), ['balance_mismatch', 'total_changed']);
  });

  test('an outcome other than the one a client saw is caught', () => {
    const o = clean();
    const outcomes = new Map([...o.finalOutcome, ['t2', 'completed']]);
    assert.ok(kinds({ ...o, finalOutcome: outcomes, finalStatus: outcomes }).includes('outcome_changed'));
  });

  test('a saga left in the journal, a running status and an unresolved transfer are caught', () => {
    const entry = { id: 'transfer:t3', phase: 'compensating', outcome: null, ageMs: 40_000 };
    const o = clean();
    assert.deepEqual(
      kinds({ ...o, journalAfterSettle: [entry], journalAfterRecheck: [entry], statusAfterSettle: new Map([...o.statusAfterSettle, ['t1', 'running']]) }),
      ['journal_leftover', 'running_after_settle', 'saga_unfinished'],
    );
    assert.ok(kinds({ ...o, finalOutcome: new Map([...o.finalOutcome, ['t3', 'error:E_ACTOR_FAILED']]) }).includes('unresolved'));
  });
});

test('bank transfers under kill -9 and restarts: money unchanged, each completed transfer applied once, each failed one compensated, no saga left', { timeout: 280_000 }, async (t) => {
  // The CLI's defaults but for the duration, so `npm run chaos -- --seconds 20 --seed N` replays the same choices.
  const options = chaosOptions({ seconds: 20, progress: (m) => t.diagnostic(m) });
  const report = await runChaos(options);
  const summary = formatReport(report);
  for (const line of summary.split('\n')) t.diagnostic(line);
  assert.equal(report.violations.length, 0, `violations (replay with npm run chaos -- --seconds 20 --seed ${report.seed}):\n${summary}`);
  assert.ok(report.chaos.kills >= 2, `only ${report.chaos.kills} kills in ${report.seconds} s:\n${summary}`);
  assert.equal(report.chaos.restartFailures, 0, `a killed node did not come back:\n${summary}`);
  assert.ok(report.transfers.finalCompleted > 0, `no transfer completed:\n${summary}`);
  assert.ok(report.transfers.failedIntoClosed > 0, `no transfer needed compensation:\n${summary}`);
});
