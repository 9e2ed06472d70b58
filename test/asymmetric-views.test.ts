/**
 * Views converge at different times: after a Consul agent restart one node
 * can list a peer before that peer lists it back. A call forwarded across
 * such a pair must still be answered. Here the views are made asymmetric on
 * purpose, with static discovery: node s lists s and p, node p lists only
 * itself (so p owns every shard in its own view, and s sends p the calls for
 * the shards s thinks p owns). Before answers went back over the caller's
 * open link, p dropped them (s was in no view of p's), and s waited out each
 * call's deadline.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedGrid } from '../grid/embedded/embedded-grid.js';
import type { TroupeNode } from '../runtime/node.js';
import { connect, type TroupeClient } from '../client/index.js';
import { Placement } from '../runtime/cluster/placement.js';
import { startNode } from './fixtures/node.js';
import { freePort } from './fixtures/transport-kit.js';

describe('asymmetric views', () => {
  let grid: EmbeddedGrid;
  let s: TroupeNode;
  let p: TroupeNode;
  let client: TroupeClient;

  before(async () => {
    grid = new EmbeddedGrid();
    await grid.start();
    const [ps, ls, pp, lp] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const env = { TROUPE_CLUSTER_SECRET: 'asymmetric-views-cluster-secret' };
    const flags = (id: string, port: number, link: number, peers: string): string[] => ['--node-id', id, '--port', String(port), '--link-port', String(link), '--discovery', 'static', '--peers', peers];
    [s, p] = await Promise.all([
      startNode(flags('s', ps, ls, `s@127.0.0.1:${ps}/${ls},p@127.0.0.1:${pp}/${lp}`), { grid, env }),
      startNode(flags('p', pp, lp, `p@127.0.0.1:${pp}/${lp}`), { grid, env }),
    ]);
    // s lists p once its health probe of p has passed (p may not have been listening at s's first probe).
    const members = async (n: TroupeNode): Promise<string[]> => ((await (await fetch(`http://127.0.0.1:${n.port}/health/ready`)).json()) as { cluster: { members: string[] } }).cluster.members;
    for (const by = Date.now() + 15_000; Date.now() < by && (await members(s)).length < 2; ) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual([(await members(s)).sort(), await members(p)], [['p', 's'], ['p']], 'the views are asymmetric');
    client = await connect({ url: `ws://127.0.0.1:${s.port}/v1/ws`, timeout: 3000 });
  });

  after(async () => {
    await client?.close();
    await Promise.all([s?.stop(), p?.stop()]);
    await grid?.close();
  });

  test('a peer whose view does not list the caller still answers its forwarded calls', async () => {
    // s's view of who owns what: the keys it forwards to p.
    const view = new Placement('s');
    view.update(['s', 'p']);
    const keys = Array.from({ length: 40 }, (_, i) => `asym-${i}`);
    const forwarded = keys.filter((k) => view.owner('Counter', k) === 'p');
    assert.ok(forwarded.length >= 5 && forwarded.length < keys.length, `s forwards some keys to p and keeps others (${forwarded.length} of ${keys.length})`);
    for (const k of keys) {
      // A timeout here (E_TIMEOUT after 3 s) is the bug: p ran the call and dropped the answer.
      assert.equal(await client.call('Counter', k, 'add', [2]), 2, `${k} (${forwarded.includes(k) ? 'forwarded to p' : 'on s'})`);
    }
    // p ran the forwarded ones: applied there once, answered, and the next call sees it.
    for (const k of forwarded.slice(0, 3)) assert.equal(await client.call('Counter', k, 'add', [1]), 3);
  });
});
