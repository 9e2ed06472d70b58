/**
 * The short chaos run for CI: 30 s of transfers, relays, reminders and
 * counters on three nodes (real Consul with an agent per node, two real
 * Hazelcast members) under every fault: kill, pause, partition, member,
 * agent, restart. The long run is `npm run chaos` (test/chaos/main.ts); both
 * use the same runner and the same checks. The checks themselves are tested
 * first, on made-up runs, so a pass of the real run means something.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkReminders, checkRelays, checkRun, type Observed } from './chaos/checks.js';
import { checkCounters } from './chaos/counter-checks.js';
import type { AddRecord, ReadRecord } from './chaos/counter-load.js';
import { FAULT_KINDS } from './chaos/faults.js';
import { netnsUnavailable } from './fixtures/netns.js';
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

describe('the relay and reminder checks', () => {
  test('a counter above its acknowledged plus unacknowledged amounts is a double; below its acknowledged ones a loss', () => {
    const expected = new Map([['c1', { acked: 10, unknown: 3 }], ['c2', { acked: 5, unknown: 0 }]]);
    assert.deepEqual(checkRelays(expected, new Map([['c1', 12], ['c2', 5]])), []);
    assert.deepEqual(checkRelays(expected, new Map([['c1', 14], ['c2', 4]])).map((v) => v.kind), ['relay_doubled', 'relay_lost']);
    assert.deepEqual(checkRelays(expected, new Map([['c1', null], ['c2', 5]])).map((v) => v.kind), ['counter_unreadable']);
  });

  test('a reminder fires once unless cancelled in time; unknown outcomes allow at most once', () => {
    const r = (fired: number | null, extra: object = {}) => ({ ticker: 't', id: 'm', scheduled: true, fired, ...extra });
    assert.deepEqual(checkReminders([r(1), r(0, { cancelled: true }), r(1, { cancelled: false }), r(0, { cancelUnknown: true }), r(0, { scheduled: false })]), []);
    assert.deepEqual(checkReminders([r(0), r(2), r(1, { cancelled: true }), r(null)]).map((v) => v.kind).sort(), ['reminder_doubled', 'reminder_fired_after_cancel', 'reminder_missed', 'ticker_unreadable']);
  });
});

describe('the counter checks', () => {
  // Key k: adds of 5, 3, 2 answered 5, 8, 10 in that order; one add of 4 never answered.
  const add = (amount: number, sentAt: number, ackedAt?: number, value?: number): AddRecord => ({ key: 'k', amount, sentAt, ...(ackedAt === undefined ? {} : { ackedAt, value }) });
  const adds = (): AddRecord[] => [add(5, 0, 10, 5), add(3, 20, 30, 8), add(2, 40, 50, 10), add(4, 60)];
  const read = (startedAt: number, value: number): ReadRecord => ({ key: 'k', startedAt, answeredAt: startedAt + 5, value });
  const kinds = (a: AddRecord[], r: ReadRecord[], final: number | null): string[] => checkCounters(a, r, new Map([['k', final]])).violations.map((v) => v.kind).sort();

  test('a run with fresh reads and each add applied once passes, the unanswered add applied or not', () => {
    const reads = [read(5, 0), read(15, 5), read(35, 8), read(45, 8), read(55, 10), read(65, 14)];
    assert.deepEqual(kinds(adds(), reads, 10), []);
    assert.deepEqual(kinds(adds(), reads, 14), []);
    assert.deepEqual(checkCounters(adds(), reads, new Map([['k', 14]])).staleness, [0, 0, 0, 0, 0, 0]);
  });

  test('a read that misses an add acknowledged before it began is caught, and its staleness measured', () => {
    const verdict = checkCounters(adds(), [read(42, 5)], new Map([['k', 10]]));
    assert.deepEqual(verdict.violations.map((v) => v.kind), ['stale_read']);
    assert.deepEqual(verdict.staleness, [12], 'from the ack of the add it missed (at 30) to the read (at 42)');
  });

  test('an add applied twice is caught: the final total above acknowledged plus unanswered', () => {
    assert.deepEqual(kinds(adds(), [], 17), ['counter_doubled']);
  });

  test('an acknowledged add lost is caught', () => {
    assert.deepEqual(kinds(adds(), [], 8), ['counter_lost', 'counter_lost']);
  });

  test('a history not from a single writer is caught: two adds answering one total, or a later add answering less', () => {
    const twoWriters = [add(5, 0, 10, 5), add(3, 20, 30, 8), add(2, 40, 50, 8)];
    assert.ok(kinds(twoWriters, [], 10).includes('counter_history'));
    const backwards = [add(5, 0, 10, 5), add(3, 20, 30, 9), add(2, 40, 50, 7)];
    assert.deepEqual(kinds(backwards, [], 10), ['counter_history']);
    // Concurrent adds may answer in either order: no violation.
    const concurrent = [add(5, 0, 30, 8), add(3, 5, 20, 3)];
    assert.deepEqual(kinds(concurrent, [], 8), []);
  });
});

const FAULTS = [...FAULT_KINDS];

test('transfers, relays, reminders and counters under every fault (kill, pause, partition, member, agent, restart): money unchanged, each acknowledged update applied once, single-writer counter histories, no stale read, each reminder fired once, no saga left', { timeout: 285_000, skip: netnsUnavailable() }, async (t) => {
  // The CLI's defaults but for the duration and the faults, so `npm run chaos -- --faults … --seconds 30 --seed N` replays the same choices.
  const options = chaosOptions({ seconds: 30, faults: FAULTS, progress: (m) => t.diagnostic(m) });
  const report = await runChaos(options);
  const summary = formatReport(report);
  for (const line of summary.split('\n')) t.diagnostic(line);
  assert.equal(report.violations.length, 0, `violations (replay with npm run chaos -- --faults ${FAULTS.join(',')} --seconds 30 --seed ${report.seed}):\n${summary}`);
  for (const f of FAULTS) assert.ok(report.chaos.injected[f] > 0, `no ${f} fault in ${report.seconds} s:\n${summary}`);
  assert.equal(report.chaos.restartFailures, 0, `a killed node, member or agent did not come back:\n${summary}`);
  assert.ok(report.counters.acked > 0 && report.counters.reads > 0, `no counter add or read succeeded:\n${summary}`);
  assert.ok(report.transfers.finalCompleted > 0, `no transfer completed:\n${summary}`);
  assert.ok(report.transfers.failedIntoClosed > 0, `no transfer needed compensation:\n${summary}`);
  assert.ok(report.relays.acked > 0, `no relay call was acknowledged:\n${summary}`);
  assert.ok(report.reminders.fired > 0, `no reminder fired:\n${summary}`);
});
