/**
 * Starting a Troupe node for a row: `bin/troupe.js start` with the Counter
 * example on a free port, ready once /health/ready answers 200 (for the
 * Hazelcast grid that includes a connected grid client).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WS_PATH } from '../../protocol/index.js';
import type { ScenarioContext, Skipped, Target } from '../scenario.js';
import { waitForReady } from './health.js';
import { freePort } from './ports.js';
import { startServer } from './processes.js';

export const COUNTER_ACTOR = 'dist/examples/counter/counter.js';

/**
 * The node reads TROUPE_* variables as settings; one left in a developer's
 * shell (TROUPE_GRID=hazelcast, say) would silently change what a row
 * measures. The scenario's flags are the whole configuration.
 */
function withoutTroupeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('TROUPE_')));
}

/** Why a Troupe row cannot run here, or null when it can. */
export function troupeMissing(ctx: ScenarioContext): Skipped | null {
  const missing = ['bin/troupe.js', COUNTER_ACTOR].filter((p) => !existsSync(join(ctx.root, p)));
  // The rows measure Troupe through its SDK. Without the SDK they run only
  // when BENCH_CLIENT=ws-batch asks for the bench's own client explicitly.
  if (ctx.wsClient === 'ws-batch' && ctx.config.client !== 'ws-batch') missing.push('dist/client/index.js');
  return missing.length > 0 ? { skipped: `not available yet: ${missing.join(', ')} missing` } : null;
}

export interface TroupeNodeOptions {
  /** Flags after `--port P --actors <Counter>`. */
  readonly extraArgs?: readonly string[];
  /** Other processes the row's server CPU includes (Hazelcast members). */
  readonly alsoPids?: readonly number[];
}

export async function startTroupeNode(ctx: ScenarioContext, o: TroupeNodeOptions = {}): Promise<Target> {
  const port = await freePort();
  const args = ['bin/troupe.js', 'start', '--port', String(port), '--actors', COUNTER_ACTOR, ...(o.extraArgs ?? [])];
  const node = await startServer({
    name: 'troupe node',
    command: process.execPath,
    args: [...ctx.config.troupeNodeFlags, ...args],
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
  ctx.progress(`node ready on 127.0.0.1:${port} (pid ${node.pid}): ${args.slice(2).join(' ')}`);
  return {
    driver: { name: ctx.wsClient, url: `ws://127.0.0.1:${port}${WS_PATH}` },
    pids: [node.pid, ...(o.alsoPids ?? [])],
    stop: () => node.stop(),
  };
}
