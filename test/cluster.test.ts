/**
 * Three nodes with a real Consul agent and a real Hazelcast member: they form
 * a cluster, route calls to owners, survive a node's kill -9 without losing
 * an acknowledged update, take in a new node under load, and drain on
 * SIGTERM without a failed call for a retrying client.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { connect, type TroupeClient, type TroupeError } from '../client/index.js';
import { startConsulAgent, type ConsulAgent } from './fixtures/consul.js';
import { startHazelcast, type HazelcastFixture } from './fixtures/hazelcast.js';
import { spawnNode, type NodeProcess } from './fixtures/node-process.js';

const SECRET = 'test-cluster-secret-0123456789';

interface Ready {
  status: string;
  cluster?: { members: string[]; shards: Record<string, number> };
}

async function ready(node: NodeProcess): Promise<Ready> {
  return (await (await fetch(`${node.http}/health/ready`)).json()) as Ready;
}

let lastViews = '';

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

/**
 * Counter.add(1) on `keys`, round after round, until `finish()` (bounded to 30 s):
 * counts acknowledged calls and records every failure.
 */
function loadUntilStopped(c: TroupeClient, keys: readonly string[]): { finish: () => Promise<{ acked: number; failures: string[] }> } {
  let acked = 0;
  let stop = false;
  const failures: string[] = [];
  const running = (async () => {
    const deadline = Date.now() + 30_000;
    while (!stop && Date.now() < deadline) {
      const rs = await Promise.allSettled(keys.map((k) => c.call('Counter', k, 'add', [1])));
      for (const r of rs) {
        if (r.status === 'fulfilled') acked++;
        else failures.push(`${(r.reason as TroupeError).code} ${(r.reason as TroupeError).message}`);
      }
    }
  })();
  return {
    finish: async () => {
      stop = true;
      await running;
      return { acked, failures };
    },
  };
}

describe('a three-node cluster on Consul and Hazelcast', () => {
  let consul: ConsulAgent;
  let hz: HazelcastFixture;
  const nodes = new Map<string, NodeProcess>();
  const clients: TroupeClient[] = [];

  const startOne = async (id: string): Promise<NodeProcess> => {
    const node = await spawnNode(
      ['--node-id', id, '--discovery', 'consul', '--consul', consul.url, '--link-port', '0', '--grid', 'hazelcast', '--hazelcast-cluster', hz.clusterName, '--hazelcast-members', hz.addresses.join(','), '--hazelcast-invocation-timeout', '4000'],
      { TROUPE_CLUSTER_SECRET: SECRET, TROUPE_NODE_ID: id },
    );
    nodes.set(id, node);
    return node;
  };
  const urls = (): string[] => [...nodes.values()].map((n) => n.url);
  const client = async (u: string[], opts: Record<string, unknown> = {}): Promise<TroupeClient> => {
    const c = await connect({ urls: u, timeout: 15_000, ...opts });
    clients.push(c);
    return c;
  };
  const membersSeen = async (count: number): Promise<boolean> => {
    const views: string[] = [];
    for (const [id, n] of nodes) {
      const r = await ready(n).catch((e: Error) => ({ status: e.message }) as Ready);
      views.push(`${id}: ${r.status} ${JSON.stringify(r.cluster?.members ?? null)}`);
    }
    lastViews = views.join('; ');
    return views.every((v) => v.includes(' ready ') && (JSON.parse(v.slice(v.indexOf('['))) as string[] | null)?.length === count);
  };

  before(async () => {
    [consul, hz] = await Promise.all([startConsulAgent(), startHazelcast({ members: 1 })]);
    await Promise.all(['n1', 'n2', 'n3'].map(startOne));
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    for (const n of nodes.values()) await n.stop(3000);
    await hz?.stop();
    await consul?.stop();
  });

  test('the nodes see each other and split the shards', async () => {
    await until('all nodes list three members', () => membersSeen(3));
    const shards = (await ready(nodes.get('n1')!)).cluster!.shards;
    assert.deepEqual(Object.keys(shards).sort(), ['n1', 'n2', 'n3']);
    assert.equal(Object.values(shards).reduce((a, b) => a + b, 0), 271);
    for (const count of Object.values(shards)) assert.ok(count > 50, `uneven split: ${JSON.stringify(shards)}`);
  });

  test('a call entering any node runs on the owner', async () => {
    // Retrying E_UNAVAILABLE as any client should (with idem keys, so a retry is safe): a node can miss its lease for a
    // moment (fenced: it refuses, it never runs a turn unconfirmed); what is checked here is where turns run.
    const perNode = await Promise.all([...nodes.values()].map((n) => client([n.url], { retry: { attempts: 20, baseMs: 100, maxMs: 500 }, autoIdem: true })));
    const ranOn = new Set<string>();
    for (let k = 0; k < 30; k++) {
      const answers = await Promise.all(perNode.map((c) => c.call('Log', `where-${k}`, 'where', [])));
      assert.equal(new Set(answers).size, 1, `key where-${k} ran on ${answers.join(', ')}`);
      ranOn.add(answers[0] as string);
    }
    assert.equal(ranOn.size, 3, 'keys spread over all three nodes');
  });

  test('events reach subscribers on every node, wherever the actor runs', async () => {
    const subs = await Promise.all([...nodes.values()].map((n) => client([n.url])));
    const seen: string[][] = subs.map(() => []);
    await Promise.all(subs.map((c, i) => c.subscribe<{ text: string }>('room:cluster', (p) => seen[i]!.push(p.text))));
    await new Promise((r) => setTimeout(r, 300)); // interest travels to the other nodes
    for (let i = 0; i < 5; i++) await subs[0]!.call('Room', 'cluster', 'post', ['ann', `m${i}`]);
    await until('every subscriber got five events', async () => seen.every((s) => s.length === 5), 5000);
    for (const s of seen) assert.deepEqual(s, ['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  test('a stranger on the link port is refused and the node carries on', async () => {
    const n1 = nodes.get('n1')!;
    const linkPort = n1.logs.find((l) => l.event === 'cluster_joined')!.linkPort as number;
    const closed = await new Promise<boolean>((resolve) => {
      const s = netConnect(linkPort, '127.0.0.1', () => s.write(Buffer.from([0, 0, 0, 12, 0x93, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])));
      s.resume(); // read (and drop) what the node sends, so its close is seen
      s.on('close', () => resolve(true));
      s.on('error', () => resolve(true));
      setTimeout(() => {
        s.destroy();
        resolve(false);
      }, 5000);
    });
    assert.equal(closed, true, `the link port ${linkPort} did not close the stranger's connection; link logs: ${JSON.stringify(n1.logs.filter((l) => String(l.event).startsWith('link')).slice(-5))}`);
    const c = await client([n1.url]);
    assert.equal(typeof (await c.call('Counter', 'after-stranger', 'add', [1])), 'number');
  });

  test('kill -9 of a node under load: calls recover within seconds and no acknowledged update is lost', async (t) => {
    await until('three members', () => membersSeen(3));
    // Keys owned by the node about to die, to time how soon its actors answer again.
    const viaN1 = await client([nodes.get('n1')!.url], { timeout: 1000 });
    const victimKeys: string[] = [];
    for (let k = 0; victimKeys.length < 5 && k < 200; k++) if ((await viaN1.call('Log', `victim-${k}`, 'where', [])) === 'n2') victimKeys.push(`victim-${k}`);
    assert.equal(victimKeys.length, 5);
    const c = await client(urls(), { autoIdem: true, retry: { attempts: 20, baseMs: 50, maxMs: 500 } });
    const keys = Array.from({ length: 60 }, (_, i) => `fo-${i}`);
    const acked = new Map<string, number>();
    let lastFailure = 0;
    let stop = false;
    const deadline = Date.now() + 30_000;
    const load = (async () => {
      while (!stop && Date.now() < deadline) {
        await Promise.all(keys.map(async (k) => {
          try {
            await c.call('Counter', k, 'add', [1]);
            acked.set(k, (acked.get(k) ?? 0) + 1);
          } catch {
            lastFailure = Date.now();
          }
        }));
      }
    })();
    await new Promise((r) => setTimeout(r, 1500));
    const victim = nodes.get('n2')!;
    const killedAt = Date.now();
    victim.kill('SIGKILL');
    // Time until each of the dead node's actors answers again through a survivor (one try at a time, no client retries).
    const answeredAfter = await Promise.all(victimKeys.map(async (k) => {
      for (;;) {
        try {
          await viaN1.call('Log', k, 'where', []);
          return Date.now() - killedAt;
        } catch {
          if (Date.now() - killedAt > 20_000) return Infinity;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }));
    await victim.exited();
    nodes.delete('n2');
    await until('survivors drop the dead node', () => membersSeen(2), 15_000);
    const recovered = Date.now() - killedAt;
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await load;
    const judge = await client([nodes.get('n1')!.url]);
    for (const k of keys) {
      const v = (await judge.call('Counter', k, 'get', [])) as number;
      assert.equal(v, acked.get(k) ?? 0, `${k}: grid has ${v}, ${acked.get(k)} acknowledged (each call has an idem key, so none may land twice)`);
    }
    t.diagnostic(`failover: placement updated ${recovered} ms after kill -9; the dead node's actors answered again after ${answeredAfter.join(', ')} ms`);
    assert.ok(recovered < 5000, `placement recovered ${recovered} ms after the kill`);
    assert.ok(Math.max(...answeredAfter) < 5000, `actors of the dead node answered again only after ${answeredAfter.join(', ')} ms`);
    assert.ok(lastFailure === 0 || lastFailure - killedAt < 5000, `calls still failing ${lastFailure - killedAt} ms after the kill`);
  });

  test('a node added under load moves about a third of the shards and no call fails', async () => {
    const c = await client(urls(), { autoIdem: true, retry: { attempts: 20, baseMs: 50, maxMs: 500 } });
    const before = (await ready(nodes.get('n1')!)).cluster!.shards;
    const keys = Array.from({ length: 40 }, (_, i) => `grow-${i}`);
    const load = loadUntilStopped(c, keys);
    await new Promise((r) => setTimeout(r, 500));
    await startOne('n4');
    await until('the new node is listed everywhere', () => membersSeen(3), 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    const { acked, failures } = await load.finish();
    const after = (await ready(nodes.get('n1')!)).cluster!.shards;
    assert.ok((after.n4 ?? 0) > 0, 'the new node owns shards');
    let kept = 0;
    for (const [id, count] of Object.entries(before)) kept += Math.min(count, after[id] ?? 0);
    assert.ok(271 - kept <= 271 / 2, `${271 - kept} shards moved`);
    assert.deepEqual(failures, []);
    const judge = await client([nodes.get('n4')!.url]);
    let total = 0;
    for (const k of keys) total += (await judge.call('Counter', k, 'get', [])) as number;
    assert.equal(total, acked);
  });

  test('SIGTERM drains a node: it exits 0 and a retrying client sees no failed call', async () => {
    const c = await client(urls(), { autoIdem: true, retry: { attempts: 20, baseMs: 50, maxMs: 500 } });
    const keys = Array.from({ length: 40 }, (_, i) => `drain-${i}`);
    const load = loadUntilStopped(c, keys);
    await new Promise((r) => setTimeout(r, 800));
    const leaving = nodes.get('n3')!;
    const code = await leaving.stop(15_000);
    nodes.delete('n3');
    await new Promise((r) => setTimeout(r, 1000));
    const { acked, failures } = await load.finish();
    assert.equal(code, 0);
    assert.deepEqual(failures, []);
    const judge = await client([nodes.get('n1')!.url]);
    let total = 0;
    for (const k of keys) total += (await judge.call('Counter', k, 'get', [])) as number;
    assert.equal(total, acked);
  });
});
