/** The gateway's configurable limits, each answered with a clear error and leaving the node healthy. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';
import { RawClient } from './fixtures/raw-client.js';

describe('gateway limits', () => {
  const nodes: TroupeNode[] = [];
  after(async () => {
    for (const n of nodes) await n.stop();
  });
  const node = async (flags: string[]): Promise<TroupeNode> => {
    const n = await startNode(flags);
    nodes.push(n);
    return n;
  };

  test('--rate-limit: calls past the per-connection rate get E_OVERLOADED; another connection is unaffected', async () => {
    const n = await node(['--rate-limit', '50']);
    const c = await RawClient.connect(n.port);
    const other = await RawClient.connect(n.port);
    try {
      const frame = Array.from({ length: 200 }, (_, i) => ({ op: 'call', id: i, actor: 'Counter', key: 'rl', method: 'add', args: [1] }));
      c.sendBinary(frame);
      const answers = await Promise.all(frame.map((m) => c.reply(m.id)));
      const ok = answers.filter((a) => a.op === 'result').length;
      const over = answers.filter((a) => a.code === 'E_OVERLOADED').length;
      assert.equal(ok + over, 200);
      assert.ok(ok >= 50 && ok <= 55, `${ok} calls got through a 50/s bucket`);
      assert.equal((await other.call('Counter', 'rl-other', 'add', [1])).value, 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await c.call('Counter', 'rl', 'get')).op, 'result', 'tokens refill over time');
    } finally {
      c.close();
      other.close();
    }
  });

  test('--max-inflight: calls past the per-connection limit get E_OVERLOADED at once', async () => {
    const n = await node(['--max-inflight', '5']);
    const c = await RawClient.connect(n.port);
    try {
      const frame = Array.from({ length: 8 }, (_, i) => ({ op: 'call', id: i, actor: 'Log', key: `mi-${i}`, method: 'slowAppend', args: [i, 200] }));
      c.sendBinary(frame);
      const answers = await Promise.all(frame.map((m) => c.reply(m.id)));
      assert.equal(answers.filter((a) => a.code === 'E_OVERLOADED').length, 3);
      assert.equal(answers.filter((a) => a.op === 'result').length, 5);
    } finally {
      c.close();
    }
  });

  test('--max-connections: the connection past the limit is refused with 503', async () => {
    const n = await node(['--max-connections', '2']);
    const a = await RawClient.connect(n.port);
    const b = await RawClient.connect(n.port);
    try {
      await assert.rejects(RawClient.connect(n.port), /upgrade refused: 503/);
      a.close();
      await a.closed();
      await new Promise((r) => setTimeout(r, 50));
      const c = await RawClient.connect(n.port);
      c.close();
    } finally {
      b.close();
    }
  });

  test('--max-queued: a node whose backlog is full answers E_OVERLOADED instead of growing', async () => {
    const n = await node(['--max-queued', '20', '--threads', '1']);
    const c = await RawClient.connect(n.port);
    try {
      const frame = Array.from({ length: 100 }, (_, i) => ({ op: 'call', id: i, actor: 'Log', key: 'mq', method: 'slowAppend', args: [i, 5] }));
      c.sendBinary(frame);
      const answers = await Promise.all(frame.map((m) => c.reply(m.id, 20_000)));
      const over = answers.filter((a) => a.code === 'E_OVERLOADED').length;
      assert.ok(over >= 50, `only ${over} of 100 refused with a backlog bound of 20`);
      assert.equal(answers.filter((a) => a.op === 'result').length + over, 100);
    } finally {
      c.close();
    }
  });
});
