import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WS_PATH } from '../../protocol/index.js';
import { waitForReady } from '../lib/health.js';
import { freePort } from '../lib/ports.js';
import { startServer } from '../lib/processes.js';
import type { Scenario } from '../scenario.js';

const COUNTER_ACTOR = 'dist/examples/counter/counter.js';

/**
 * The node reads TROUPE_* variables as settings; one left in a developer's
 * shell (TROUPE_GRID=hazelcast, say) would silently change what this row
 * measures. The scenario's flags are the whole configuration.
 */
function withoutTroupeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('TROUPE_')));
}

/** One Troupe node with the Counter example, reached over WebSocket. */
export const troupe: Scenario = {
  name: 'troupe',
  kind: 'troupe',
  description: 'Troupe: one node (bin/troupe.js start, embedded grid) hosting the Counter example, Counter.add(1) over WebSocket',
  async start(ctx) {
    const missing = ['bin/troupe.js', COUNTER_ACTOR].filter((p) => !existsSync(join(ctx.root, p)));
    // The row measures Troupe through its SDK. Without the SDK it runs only
    // when BENCH_CLIENT=ws-batch asks for the bench's own client explicitly.
    if (ctx.wsClient === 'ws-batch' && ctx.config.client !== 'ws-batch') missing.push('dist/client/index.js');
    if (missing.length > 0) return { skipped: `not available yet: ${missing.join(', ')} missing` };

    const port = await freePort();
    const node = await startServer({
      name: 'troupe node',
      command: process.execPath,
      args: ['bin/troupe.js', 'start', '--port', String(port), '--actors', COUNTER_ACTOR],
      cwd: ctx.root,
      env: withoutTroupeEnv(process.env),
      timeoutMs: 30_000,
      ready: (line) => line.includes('listening'),
    });
    try {
      await waitForReady(`http://127.0.0.1:${port}/health/ready`, 30_000);
    } catch (err) {
      await node.stop();
      throw new Error(`troupe node: ${err instanceof Error ? err.message : String(err)}\n${node.tail()}`);
    }
    ctx.progress(`node ready on 127.0.0.1:${port} (pid ${node.pid})`);
    return {
      driver: { name: ctx.wsClient, url: `ws://127.0.0.1:${port}${WS_PATH}` },
      pids: [node.pid],
      stop: () => node.stop(),
    };
  },
};
