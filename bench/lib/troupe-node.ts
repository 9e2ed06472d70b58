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
import { freePort } from '../../runtime/cli/free-port.js';
import { startServer, type Started } from './processes.js';

export const COUNTER_ACTOR = 'dist/examples/counter/counter.js';
export const RELAY_ACTOR = 'dist/examples/relay/relay.js';

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
  /** Actor modules, relative to the root; default the Counter example only. */
  readonly actors?: readonly string[];
  /** The load's workload (see drivers/index.ts); default Counter.add(1). */
  readonly workload?: 'counter' | 'relay';
  /** A checkout to run the node from instead of this one (BENCH_BASELINE). */
  readonly root?: string;
  /** The load's WebSocket client; default the run's (BENCH_CLIENT). */
  readonly client?: 'troupe-sdk' | 'ws-batch';
}

export async function startTroupeNode(ctx: ScenarioContext, o: TroupeNodeOptions = {}): Promise<Target> {
  const actors = o.actors ?? [COUNTER_ACTOR];
  const node = await launchNode(o.root ?? ctx.root, { actors, flags: o.extraArgs ?? [], nodeFlags: ctx.config.troupeNodeFlags });
  ctx.progress(`node ready on 127.0.0.1:${node.port} (pid ${node.pid}): --port ${node.port} --actors ${actors.join(',')} ${(o.extraArgs ?? []).join(' ')}`.trimEnd());
  return {
    driver: o.workload === 'relay' ? { name: 'troupe-sdk', url: node.url, workload: 'relay' } : { name: o.client ?? ctx.wsClient, url: node.url },
    pids: [node.pid, ...(o.alsoPids ?? [])],
    stop: () => node.stop(),
  };
}

/**
 * A Counter node for the measurement scripts (bench/scale, bench/measure):
 * this checkout, embedded grid, no TROUPE_* variables but `env`. The caller stops it.
 */
export function startCounterNode(root: string, flags: readonly string[], env: Record<string, string> = {}): Promise<Started & { port: number; url: string }> {
  return launchNode(root, { actors: [COUNTER_ACTOR], flags, env });
}

/** `bin/troupe.js start` on a free port from `root`, ready once /health/ready answers (else stopped, with its output's tail in the error). */
async function launchNode(
  root: string,
  o: { actors: readonly string[]; flags: readonly string[]; env?: Record<string, string>; nodeFlags?: readonly string[] },
): Promise<Started & { port: number; url: string }> {
  const port = await freePort();
  const node = await startServer({
    name: 'troupe node',
    command: process.execPath,
    args: [...(o.nodeFlags ?? []), 'bin/troupe.js', 'start', '--port', String(port), '--actors', o.actors.join(','), ...o.flags],
    cwd: root,
    env: { ...withoutTroupeEnv(process.env), ...(o.env ?? {}) },
    timeoutMs: 30_000,
    ready: (line) => line.includes('listening'),
  });
  try {
    await waitForReady(`http://127.0.0.1:${port}/health/ready`, 30_000);
  } catch (err) {
    await node.stop();
    throw new Error(`troupe node: ${err instanceof Error ? err.message : String(err)}\n${node.tail()}`);
  }
  return { ...node, port, url: `ws://127.0.0.1:${port}${WS_PATH}` };
}
