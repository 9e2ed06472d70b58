/**
 * A turn has one identity however often it runs. Here its worker thread dies
 * (a failpoint ends it in the middle of a group, after the turn's call to
 * another actor was applied): the caller retries with its idem key, the turn
 * runs again on a fresh worker, and makes its call with the same derived key,
 * so the callee answers from its record instead of applying it twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnNode, type NodeProcess } from './fixtures/node-process.js';
import { RawClient } from './fixtures/raw-client.js';

describe('turn identity across a crashed worker', () => {
  let node: NodeProcess;
  let client: RawClient;

  before(async () => {
    node = await spawnNode([], { TROUPE_FAILPOINTS: 'mid-batch=exit-thread@1' });
    client = await RawClient.connect(node.port);
  });
  after(async () => {
    client.close();
    await node.stop();
  });

  test('a turn re-run after its worker died makes its calls with the same keys: applied once', async () => {
    // Two turns of one actor in one frame: one group. The first awaits a call to Log; when the worker
    // takes the second turn, the failpoint ends the thread. Nothing of the group was committed.
    const call = (id: string, x: string): Record<string, unknown> => ({ op: 'call', id, actor: 'Caller', key: 'crash', method: 'appendAndCount', args: ['log-crash', x], idem: `k-${x}`, timeout: 800 });
    client.sendBinary([call('c1', 'a'), call('c2', 'b')]);
    const [r1, r2] = await Promise.all([client.reply('c1'), client.reply('c2')]);
    // The thread's exit fails its groups at once (their actor is free again only then).
    assert.equal(r1.code, 'E_UNAVAILABLE', 'the group died with its worker');
    assert.equal(r2.code, 'E_UNAVAILABLE');
    // The callers retry with their keys (the failpoint fired once; the new worker runs them).
    const deadline = Date.now() + 20_000;
    let answers: unknown[] = [];
    for (;;) {
      const rs = [await client.call('Caller', 'crash', 'appendAndCount', ['log-crash', 'a'], { idem: 'k-a', timeout: 2000 }), await client.call('Caller', 'crash', 'appendAndCount', ['log-crash', 'b'], { idem: 'k-b', timeout: 2000 })];
      answers = rs.map((r) => r.value ?? r.code);
      if (rs.every((r) => r.op === 'result') || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(answers, [1, 2]);
    assert.deepEqual((await client.call('Log', 'log-crash', 'items')).value, ['a', 'b']);
  });
});
