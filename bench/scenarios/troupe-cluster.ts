import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WS_PATH } from '../../protocol/index.js';
import { Placement } from '../../runtime/cluster/placement.js';
import { waitForReady } from '../lib/health.js';
import { freePort } from '../../runtime/cli/free-port.js';
import { startServer } from '../lib/processes.js';
import type { Scenario } from '../scenario.js';

const COUNTER_ACTOR = 'dist/examples/counter/counter.js';
const SECRET = 'bench-cluster-secret-0123456789';

/**
 * Two Troupe nodes (static discovery, each on its own embedded grid: only the
 * owner of an actor ever runs it) with the client connected to node `a`. The
 * `local` row calls only actors node `a` owns; the `cross` row only actors
 * node `b` owns, so every call crosses the node link and back. Same keys
 * count, same client, same run.
 */
function twoNodes(name: string, owner: 'a' | 'b'): Scenario {
  return {
    name,
    // The local row is the baseline the cross-node row is divided by, so it counts as the "peer" of its group.
    kind: owner === 'a' ? 'peer' : 'troupe',
    group: 'cluster',
    family: 'troupe-cluster',
    description: owner === 'a'
      ? 'Troupe: 2-node cluster, client on node a, Counter actors owned by node a (no forwarding)'
      : 'Troupe: 2-node cluster, client on node a, Counter actors owned by node b (every call forwarded a → b and back)',
    ...(owner === 'b' ? { targets: { 'troupe-2node-local': 0.7 } } : {}),
    async start(ctx) {
      const missing = ['bin/troupe.js', COUNTER_ACTOR].filter((p) => !existsSync(join(ctx.root, p)));
      if (missing.length > 0) return { skipped: `not available yet: ${missing.join(', ')} missing` };
      const [pa, la, pb, lb] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
      const peers = `a@127.0.0.1:${pa}/${la},b@127.0.0.1:${pb}/${lb}`;
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TROUPE_')));
      const start = (id: string, port: number, link: number) =>
        startServer({
          name: `troupe node ${id}`,
          command: process.execPath,
          // One worker thread per node: two nodes and the client already share this machine's cores.
          args: [...ctx.config.troupeNodeFlags, 'bin/troupe.js', 'start', '--node-id', id, '--port', String(port), '--link-port', String(link), '--discovery', 'static', '--peers', peers, '--actors', COUNTER_ACTOR, '--threads', '1'],
          cwd: ctx.root,
          env: { ...env, TROUPE_CLUSTER_SECRET: SECRET },
          timeoutMs: 30_000,
          ready: (line) => line.includes('cluster_joined'),
        });
      const [a, b] = await Promise.all([start('a', pa, la), start('b', pb, lb)]);
      const stop = async (): Promise<void> => {
        await Promise.all([a.stop(), b.stop()]);
      };
      try {
        await Promise.all([waitForReady(`http://127.0.0.1:${pa}/health/ready`, 30_000), waitForReady(`http://127.0.0.1:${pb}/health/ready`, 30_000)]);
        // Both nodes list both members before the row starts (static discovery probes every second).
        const deadline = Date.now() + 15_000;
        for (;;) {
          const views = await Promise.all([pa, pb].map(async (p) => ((await (await fetch(`http://127.0.0.1:${p}/health/ready`)).json()) as { cluster?: { members: string[] } }).cluster?.members.length));
          if (views.every((n) => n === 2)) break;
          if (Date.now() > deadline) throw new Error('the two nodes never saw each other');
          await new Promise((res) => setTimeout(res, 200));
        }
      } catch (err) {
        await stop();
        throw err;
      }
      // The same rendezvous table the nodes compute, to pick keys on the wanted node.
      const placement = new Placement('a');
      placement.update(['a', 'b']);
      const keyNames: string[] = [];
      for (let i = 0; keyNames.length < ctx.config.keys; i++) if (placement.owner('Counter', `k${i}`) === owner) keyNames.push(`k${i}`);
      ctx.progress(`nodes a (127.0.0.1:${pa}) and b (127.0.0.1:${pb}) ready; ${keyNames.length} keys owned by ${owner}`);
      return {
        driver: { name: ctx.wsClient, url: `ws://127.0.0.1:${pa}${WS_PATH}` },
        pids: [a.pid, b.pid],
        keyNames,
        note: `${keyNames.length} Counter keys owned by node ${owner}`,
        stop,
      };
    },
  };
}

export const troupeTwoNodeLocal = twoNodes('troupe-2node-local', 'a');
export const troupeTwoNodeCross = twoNodes('troupe-2node-cross', 'b');
