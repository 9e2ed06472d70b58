/** Transfers as sagas: exactly-once money movement, full compensation, resumption of a saga a dead node left behind. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type TroupeClient, type TroupeError } from '../client/index.js';
import { SAGA_JOURNAL } from '../actors/index.js';
import { EmbeddedGrid } from '../grid/embedded/embedded-grid.js';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';

describe('Transfer saga', () => {
  let grid: EmbeddedGrid;
  let node: TroupeNode;
  let c: TroupeClient;
  const balance = (k: string) => c.call('Account', k, 'balance', []) as Promise<number>;
  const start = (id: string, from: string, to: string, amount: number) => c.call('Transfer', id, 'start', [{ from, to, amount }]);

  before(async () => {
    grid = new EmbeddedGrid();
    await grid.start();
    // --idem-min-age 0: keys age out by count at once, so the tests below see what the journal alone protects.
    node = await startNode(['--saga-scan', '100', '--saga-stale', '300', '--idem-min-age', '0'], { grid });
    c = await connect({ url: `ws://127.0.0.1:${node.port}/v1/ws` });
  });
  after(async () => {
    await c.close();
    await node.stop();
    await grid.close();
  });

  test('a transfer completes and moves the money once; status reports it', async () => {
    await c.call('Account', 'a1', 'deposit', [100]);
    assert.equal(await start('t1', 'a1', 'b1', 30), 'completed');
    assert.deepEqual([await balance('a1'), await balance('b1')], [70, 30]);
    assert.deepEqual(await c.call('Transfer', 't1', 'status', []), { state: 'completed', from: 'a1', to: 'b1', amount: 30 });
  });

  test('starting the same transfer again returns the same outcome and moves nothing', async () => {
    assert.equal(await start('t1', 'a1', 'b1', 30), 'completed');
    assert.deepEqual([await balance('a1'), await balance('b1')], [70, 30]);
  });

  test('insufficient funds: the transfer fails and nothing moves', async () => {
    assert.equal(await start('t2', 'a1', 'b1', 1000), 'failed');
    assert.deepEqual([await balance('a1'), await balance('b1')], [70, 30]);
    assert.equal(((await c.call('Transfer', 't2', 'status', [])) as { state: string }).state, 'failed');
  });

  test('a step that fails after money left the first account is compensated', async () => {
    await c.call('Account', 'closed-1', 'close', []);
    assert.equal(await start('t3', 'a1', 'closed-1', 20), 'failed');
    assert.deepEqual([await balance('a1'), await balance('closed-1')], [70, 0]);
  });

  test('a transfer between two closed accounts is compensated with a refund the source cannot refuse', async () => {
    await c.call('Account', 'closed-src', 'deposit', [40]);
    await c.call('Account', 'closed-src', 'close', []);
    await c.call('Account', 'closed-dst', 'close', []);
    assert.equal(await start('t-closed', 'closed-src', 'closed-dst', 25), 'failed');
    assert.deepEqual([await balance('closed-src'), await balance('closed-dst')], [40, 0]);
  });

  test('a resumed saga skips steps its journal records as done, even after the callee forgot their keys', async () => {
    await c.call('Account', 'fg-from', 'deposit', [100]);
    assert.equal(await c.call('Account', 'fg-from', 'withdraw', [30], { idem: 'transfer:t-forgot:withdraw' }), 70);
    // 100 other idempotent calls push the step's key out of the account's memory (--idem-max 64).
    for (let i = 0; i < 100; i++) await c.call('Account', 'fg-from', 'deposit', [1], { idem: `other-${i}` });
    assert.equal(await balance('fg-from'), 170);
    await grid.map(SAGA_JOURNAL, { consistent: true }).set('transfer:t-forgot', { type: 'Transfer', key: 't-forgot', method: 'start', input: { from: 'fg-from', to: 'fg-to', amount: 30 }, phase: 'running', next: 1, updatedAt: Date.now() - 10_000 });
    let status: { state: string } = { state: 'unknown' };
    for (let i = 0; i < 100 && status.state !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await c.call('Transfer', 't-forgot', 'status', [])) as { state: string };
    }
    assert.equal(status.state, 'completed');
    assert.deepEqual([await balance('fg-from'), await balance('fg-to')], [170, 30]);
  });

  test('invalid transfers are refused with E_ACTOR_FAILED', async () => {
    await assert.rejects(start('t4', 'a1', 'a1', 5), (e: TroupeError) => e.code === 'E_ACTOR_FAILED' && /INVALID_TRANSFER/.test(e.message));
    await assert.rejects(start('t5', 'a1', 'b1', 1.5), (e: TroupeError) => e.code === 'E_ACTOR_FAILED' && /INVALID_AMOUNT/.test(e.message));
  });

  test('a saga left half done by a dead node is resumed and finished, the journal cleaned', async () => {
    await c.call('Account', 'r-from', 'deposit', [50]);
    // What a node that died after the first step leaves behind: the journal entry, and the withdrawal under its key.
    await grid.map(SAGA_JOURNAL, { consistent: true }).set('transfer:t-res', { type: 'Transfer', key: 't-res', method: 'start', input: { from: 'r-from', to: 'r-to', amount: 20 }, phase: 'running', updatedAt: Date.now() - 10_000 });
    assert.equal(await c.call('Account', 'r-from', 'withdraw', [20], { idem: 'transfer:t-res:withdraw' }), 30);
    let status: { state: string } = { state: 'unknown' };
    for (let i = 0; i < 100 && status.state !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await c.call('Transfer', 't-res', 'status', [])) as { state: string };
    }
    assert.equal(status.state, 'completed');
    assert.deepEqual([await balance('r-from'), await balance('r-to')], [30, 20]);
    for (let i = 0; i < 50 && (await grid.map(SAGA_JOURNAL, { consistent: true }).keys()).includes('transfer:t-res'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(!(await grid.map(SAGA_JOURNAL, { consistent: true }).keys()).includes('transfer:t-res'), 'journal entry removed');
  });

  test('concurrent transfers among five accounts never create or destroy money', async () => {
    const accounts = ['m0', 'm1', 'm2', 'm3', 'm4'];
    for (const a of accounts) await c.call('Account', a, 'deposit', [100]);
    const outcomes = await Promise.all(Array.from({ length: 60 }, (_, i) => {
      const from = accounts[i % 5]!;
      const to = accounts[(i * 3 + 1) % 5]!;
      return from === to ? Promise.resolve('skipped') : start(`mt-${i}`, from, to, 10 + (i % 4) * 25);
    }));
    assert.ok(outcomes.includes('completed'));
    let total = 0;
    for (const a of accounts) total += await balance(a);
    assert.equal(total, 500);
  });
});
