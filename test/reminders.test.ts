/**
 * Durable reminders on one node (embedded grid): they fire once per due
 * time, replace by name, cancel, repeat until cancelled, survive a turn that
 * throws, and are scheduled only by turns that commit.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedGrid } from '../grid/embedded/embedded-grid.js';
import { decodeRecord } from '../runtime/record.js';
import type { VersionedRecord } from '../grid/index.js';
import { nodeOnGrid } from './fixtures/node-on-grid.js';
import { until } from './fixtures/until.js';
import { checkSchedule, afterFiring, dueReminders } from '../runtime/reminders/reminder-table.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


describe('reminder table', () => {
  test('schedules are checked where they enter', () => {
    assert.throws(() => checkSchedule('', { after: 1 }, 0), /name/);
    assert.throws(() => checkSchedule('r', {}, 0), /at, after or every/);
    assert.throws(() => checkSchedule('r', { every: 5 }, 0), /at least 10 ms/);
    assert.throws(() => checkSchedule('r', { at: 1, after: 1 }, 0), /not both/);
    assert.throws(() => checkSchedule('r', { after: -1 }, 0), /finite number/);
    assert.deepEqual(checkSchedule('r', { every: 100 }, 1000), { due: 1100, every: 100 });
    assert.deepEqual(checkSchedule('r', { at: 5000, every: 100 }, 1000), { due: 5000, every: 100 });
  });

  test('a recurring reminder moves past now, skipping the firings it missed; a one-shot one goes', () => {
    const table: [string, number, number, string, unknown[]][] = [['rec', 1000, 100, 'tick', []], ['once', 1000, 0, 'tick', []]];
    assert.deepEqual(dueReminders(table, 999), []);
    assert.equal(dueReminders(table, 1000).length, 2);
    const after = afterFiring(afterFiring(table, table[0]!, 1350), table[1]!, 1350);
    assert.deepEqual(after, [['rec', 1400, 100, 'tick', []]]);
    // A reminder the turn replaced (new due time) is left as the turn left it.
    assert.deepEqual(afterFiring([['rec', 5000, 100, 'tick', []]], table[0]!, 1350), [['rec', 5000, 100, 'tick', []]]);
  });
});

describe('durable reminders on one node', () => {
  const s = nodeOnGrid(() => new EmbeddedGrid());

  const fired = async (key: string): Promise<Record<string, number>> => (await s.client.call('Ticker', key, 'fired')).value as Record<string, number>;

  test('a one-shot reminder fires once, close to its due time, then is gone', async () => {
    await s.client.call('Ticker', 't-once', 'schedule', ['a', 150]);
    assert.deepEqual((await s.client.call('Ticker', 't-once', 'pending')).value, ['a']);
    await until('fired', () => fired('t-once'), (f) => f.a === 1);
    await sleep(300);
    assert.deepEqual(await fired('t-once'), { a: 1 });
    assert.deepEqual((await s.client.call('Ticker', 't-once', 'pending')).value, []);
    const late = ((await s.client.call('Ticker', 't-once', 'lateness')).value as Record<string, number>).a!;
    assert.ok(late >= 0 && late < 250, `fired ${late} ms after its due time`);
  });

  test('a cancelled reminder never fires; scheduling a name again replaces it', async () => {
    await s.client.call('Ticker', 't-cancel', 'schedule', ['gone', 100]);
    await s.client.call('Ticker', 't-cancel', 'schedule', ['moved', 100]);
    await s.client.call('Ticker', 't-cancel', 'schedule', ['moved', 400]);
    assert.equal((await s.client.call('Ticker', 't-cancel', 'cancel', ['gone'])).value, true);
    assert.equal((await s.client.call('Ticker', 't-cancel', 'cancel', ['never-was'])).value, false);
    await sleep(250);
    assert.deepEqual(await fired('t-cancel'), {});
    await until('moved fires', () => fired('t-cancel'), (f) => f.moved === 1);
    await sleep(200);
    assert.deepEqual(await fired('t-cancel'), { moved: 1 });
  });

  test('a recurring reminder repeats until its handler cancels it', async () => {
    await s.client.call('Ticker', 't-rep', 'repeat', ['r', 50, 4]);
    await until('four ticks', () => fired('t-rep'), (f) => f.r === 4);
    await sleep(300);
    assert.deepEqual(await fired('t-rep'), { r: 4 });
    assert.deepEqual((await s.client.call('Ticker', 't-rep', 'pending')).value, []);
  });

  test('a reminder scheduled by a turn that throws is never scheduled', async () => {
    assert.equal((await s.client.call('Chime', 'c-fail', 'scheduleThenFail', [50])).code, 'E_ACTOR_FAILED');
    await sleep(250);
    assert.deepEqual((await s.client.call('Chime', 'c-fail', 'rung')).value, 0);
    const [rec] = s.grid.readRecordsNow([{ type: 'Chime', key: 'c-fail' }]) as (VersionedRecord | undefined)[];
    assert.ok(rec === undefined || decodeRecord(rec.data).reminders.length === 0);
  });

  test('a reminder whose handler throws still fires only once (it moves on), and the actor keeps working', async () => {
    await s.client.call('Chime', 'c-throw', 'scheduleFaulty', [50]);
    const reminders = async (): Promise<number> => decodeRecord((s.grid.readRecordsNow([{ type: 'Chime', key: 'c-throw' }])[0] as VersionedRecord).data).reminders.length;
    await until('the faulty one-shot reminder is gone', reminders, (n) => n === 0);
    // Its handler's change was rolled back with its failure.
    assert.equal((await s.client.call('Chime', 'c-throw', 'ring')).value, 1);
  });

  test('reminders() lists what is pending, with its schedule', async () => {
    assert.deepEqual((await s.client.call('Chime', 'c-list', 'scheduleAndList', [])).value, [
      { name: 'hourly', every: 3_600_000 },
      { name: 'later', every: null },
    ]);
  });

  test('a bad schedule fails the turn with the reason, changing nothing', async () => {
    const r = await s.client.call('Ticker', 't-bad', 'repeat', ['x', 1, 3]);
    assert.equal(r.code, 'E_ACTOR_FAILED');
    assert.match(String(r.message), /every must be at least 10 ms/);
    assert.deepEqual((await s.client.call('Ticker', 't-bad', 'pending')).value, []);
  });
});
