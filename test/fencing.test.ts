/**
 * Fencing on a three-node cluster (real Consul, real Hazelcast): a node
 * serves as an owner only while its membership is confirmed. A node that
 * lost its Consul agent stops serving within the lease; a node paused past
 * the TTL (SIGSTOP) does not answer from the state it cached before the
 * pause when it wakes; a read never returns a value older than the read
 * lease (1 s) allows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TroupeClient } from '../client/index.js';
import { ChaosCluster } from './chaos/cluster.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Ready {
  status?: string;
  cluster?: { members?: string[]; fenced?: boolean };
}

async function ready(url: string): Promise<Ready> {
  return (await (await fetch(`${url.replace('ws://', 'http://').replace('/v1/ws', '')}/health/ready`, { signal: AbortSignal.timeout(2000) })).json()) as Ready;
}

const code = (err: unknown): string => String((err as { code?: unknown }).code ?? err);

describe('fencing: a node serves as owner only while its membership is confirmed', () => {
  let cluster: ChaosCluster;
  const clients: TroupeClient[] = [];
  const client = async (urls: string[], opts: Record<string, unknown> = {}): Promise<TroupeClient> => {
    const c = await connect({ urls, timeout: 5000, ...opts });
    clients.push(c);
    return c;
  };

  before(async () => {
    cluster = await ChaosCluster.start({
      nodes: 3, sagaScanMs: 1000, sagaStaleMs: 10_000, nodeFlags: [],
      logDir: join(tmpdir(), `troupe-fencing-${process.pid}`), progress: (m) => void process.stdout.write(`# ${m}\n`),
    });
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await cluster?.stop();
  });

  test('nodes that lose their Consul agent stop serving within the lease, and serve again once confirmed; nothing acknowledged is lost', async () => {
    const c = await client(cluster.urls, { retry: { attempts: 40, baseMs: 100, maxMs: 500 }, autoIdem: true });
    const keys = Array.from({ length: 30 }, (_, i) => `fence-agent-${i}`);
    for (const k of keys) assert.equal(await c.call('Counter', k, 'add', [1]), 1);
    await cluster.agent.stop();
    const stoppedAt = Date.now();
    // Within the lease (1.5 s) plus a check period, every node says it is fenced and runs no turn.
    let fencedAll = false;
    while (Date.now() - stoppedAt < 4000 && !fencedAll) {
      const views = await Promise.all(cluster.ids.map((id) => ready(cluster.url(id)).catch(() => ({}) as Ready)));
      fencedAll = views.every((v) => v.cluster?.fenced === true);
      if (!fencedAll) await sleep(100);
    }
    const fencedAfter = Date.now() - stoppedAt;
    assert.ok(fencedAll, 'every node reports itself fenced');
    process.stdout.write(`# fenced ${fencedAfter} ms after the agent stopped\n`);
    const plain = await client([cluster.url('n1')]);
    const refused = await Promise.allSettled(keys.slice(0, 10).map((k) => plain.call('Counter', k, 'get', [])));
    for (const r of refused) {
      assert.equal(r.status, 'rejected', 'a fenced node answered a call');
      assert.equal(code((r as PromiseRejectedResult).reason), 'E_UNAVAILABLE');
    }
    await cluster.agent.start();
    await cluster.waitForMembers(30_000);
    // Once the agent is back each node must be confirmed by the servers again and take its shards over
    // (a lease's wait each): on a loaded 2-core machine that has taken longer than one 5 s call, so the
    // first calls get a longer deadline; how long serving took to come back is reported.
    const back = Date.now();
    const patient = await client(cluster.urls, { timeout: 20_000, retry: { attempts: 40, baseMs: 100, maxMs: 500 } });
    // After the only Consul agent restarts without its state, a forwarded call once stayed
    // unanswered past 20 s: the owner, its view not listing the caller yet, dropped the answer
    // (fixed: answers go back over the caller's link; test/asymmetric-views.test.ts). Should a call
    // still stall, it is sent again with the same idem key (it must then apply exactly once) and
    // counted in the output, not hidden.
    let stalled = 0;
    for (const k of keys) {
      const idem = `fence-agent-back:${k}`;
      let total: unknown;
      try {
        total = await patient.call('Counter', k, 'add', [1], { idem });
      } catch (err) {
        if (code(err) !== 'E_TIMEOUT') throw err;
        stalled++;
        total = await patient.call('Counter', k, 'add', [1], { idem, timeout: 30_000 });
      }
      assert.equal(total, 2, `${k}: applied once after the agent came back`);
    }
    process.stdout.write(`# all ${keys.length} counters served again ${Date.now() - back} ms after the members were listed again; calls unanswered within 20 s: ${stalled}\n`);
  });

  test('a node paused past the TTL does not answer from what it cached before the pause: no read older than the read lease', async () => {
    await cluster.waitForMembers(30_000);
    const viaN1 = await client([cluster.url('n1')], { retry: { attempts: 40, baseMs: 100, maxMs: 500 }, autoIdem: true });
    // A key n2 owns: its turns run there.
    let key = '';
    for (let i = 0; i < 200 && key === ''; i++) if ((await viaN1.call('Log', `fence-pause-${i}`, 'where', [])) === 'n2') key = `fence-pause-${i}`;
    assert.notEqual(key, '', 'found a key owned by n2');
    const onlyN2 = await client([cluster.url('n2')], { reconnect: { baseMs: 10, maxMs: 50 } });
    await onlyN2.call('Log', key, 'append', ['before']);
    assert.deepEqual(await onlyN2.call('Log', key, 'items', []), ['before']);
    // n2 sleeps past its TTL; the others take its shards and the key is written there.
    const pause = cluster.pause('n2', 4500);
    await sleep(3500);
    await viaN1.call('Log', key, 'append', ['while n2 slept']);
    const acknowledgedAt = Date.now();
    await pause;
    // The first thing n2 does when it wakes: answer a read of that key.
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const started = Date.now();
      try {
        const items = (await onlyN2.call('Log', key, 'items', [])) as string[];
        outcomes.push(items.includes('while n2 slept') ? 'current' : `STALE (${started - acknowledgedAt} ms after the write)`);
      } catch (err) {
        outcomes.push(code(err));
      }
      await sleep(150);
    }
    process.stdout.write(`# reads through n2 after it woke: ${outcomes.join(', ')}\n`);
    assert.ok(!outcomes.some((o) => o.startsWith('STALE')), `a read returned state older than an acknowledged write: ${outcomes.join(', ')}`);
    assert.ok(outcomes.some((o) => o === 'current'), 'n2 serves again once it is confirmed');
  });
});
