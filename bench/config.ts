/**
 * Bench settings, read once from the environment and checked here. A bad
 * value stops the run with one line naming the variable.
 *
 *   BENCH_SECONDS          measured seconds per row            (default 5)
 *   BENCH_WARMUP_SECONDS   unrecorded warm-up per row          (default 1.5)
 *   BENCH_INFLIGHT         in-flight levels, comma-separated   (default 1,1000)
 *   BENCH_KEYS             counter keys, used round-robin      (default 1000)
 *   BENCH_MAX_CALLS        a row's window also ends here       (default 5000000)
 *   BENCH_ONLY             scenario names to run, comma-separated (default all)
 *   BENCH_CLIENT           WebSocket client for the Troupe and raw-uWS rows:
 *                          auto (the SDK when built, else ws-batch), sdk, ws-batch
 *   BENCH_QUIET_WAIT_SECONDS  for a shared machine: before each row, wait up to
 *                          this long for other processes to fall under 10% of a
 *                          core, and measure a disturbed row again (4 tries in
 *                          all, the least disturbed kept)     (default 0: off)
 *   BENCH_HAZELCAST_MEMBERS   Hazelcast members shared by the hazelcast rows:
 *                          1, or 2 (every write then also waits for its
 *                          synchronous backup on the other member) (default 1)
 *   BENCH_HAZELCAST_HEAP_MB   heap per member, MB                (default 256)
 *   BENCH_COMMIT_WINDOW    --commit-window (ms) for the troupe-hazelcast row
 *                          (default: unset, the node's own default)
 *   BENCH_COMMIT_WINDOW_SWEEP  opt-in: replaces the troupe-hazelcast row by one
 *                          row per commit window; 1 for 0,1,2,5 ms, or a
 *                          comma-separated list of ms            (default: off)
 *   BENCH_STORE_PARTITION_THREADS  partition threads of the write-through
 *                          members (each holds a database commit): (default:
 *                          unset, Hazelcast's own max(2, cores))
 *   BENCH_TROUPE_NODE_FLAGS   extra flags for node(1) running each Troupe node,
 *                          space-separated, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
 *                          (profiles are written when the row stops the node)
 *   BENCH_BASELINE         a built checkout of an older commit (its own npm install
 *                          and tsc): adds rows troupe@baseline,
 *                          troupe-hazelcast@baseline and troupe-2node-cross@baseline,
 *                          run from there, beside the current ones, so a hot-path
 *                          change is measured against its parent in one run
 *                                                                  (default: off)
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type ClientChoice = 'auto' | 'sdk' | 'ws-batch';

export interface BenchConfig {
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly inFlight: readonly number[];
  readonly keys: number;
  readonly maxCalls: number;
  readonly only: readonly string[] | null;
  readonly client: ClientChoice;
  readonly quietWaitSeconds: number;
  readonly hazelcastMembers: 1 | 2;
  readonly hazelcastHeapMb: number;
  /** null: the node's default (no --commit-window flag). */
  readonly commitWindowMs: number | null;
  /** null: no sweep. */
  readonly commitWindowSweep: readonly number[] | null;
  readonly troupeNodeFlags: readonly string[];
  /** Absolute path of a built older checkout, or null. */
  readonly baselineRoot: string | null;
  /** null: Hazelcast's default. */
  readonly storePartitionThreads: number | null;
}

export class ConfigError extends Error {}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number, check: (n: number) => boolean, expected: string): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!check(n)) throw new ConfigError(`${name} must be ${expected}, got ${JSON.stringify(raw)}`);
  return n;
}

const positiveInt = (max: number) => (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= max;

export function readConfig(env: NodeJS.ProcessEnv): BenchConfig {
  const seconds = num(env, 'BENCH_SECONDS', 5, (n) => n > 0 && n <= 600, 'a number of seconds in (0, 600]');
  const warmupSeconds = num(env, 'BENCH_WARMUP_SECONDS', 1.5, (n) => n >= 0 && n <= 60, 'a number of seconds in [0, 60]');
  const keys = num(env, 'BENCH_KEYS', 1000, positiveInt(1_000_000), 'an integer from 1 to 1000000');
  const maxCalls = num(env, 'BENCH_MAX_CALLS', 5_000_000, positiveInt(1e9), 'a positive integer');

  const levels = (env.BENCH_INFLIGHT ?? '1,1000').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const inFlight = levels.map(Number);
  if (inFlight.length === 0 || !inFlight.every(positiveInt(100_000))) {
    throw new ConfigError(`BENCH_INFLIGHT must be comma-separated integers from 1 to 100000, got ${JSON.stringify(env.BENCH_INFLIGHT)}`);
  }

  const quietWaitSeconds = num(env, 'BENCH_QUIET_WAIT_SECONDS', 0, (n) => n >= 0 && n <= 3600, 'a number of seconds in [0, 3600]');

  const onlyRaw = env.BENCH_ONLY?.trim();
  const only = onlyRaw ? onlyRaw.split(',').map((s) => s.trim()).filter((s) => s !== '') : null;

  const client = (env.BENCH_CLIENT ?? 'auto').trim();
  if (client !== 'auto' && client !== 'sdk' && client !== 'ws-batch') {
    throw new ConfigError(`BENCH_CLIENT must be auto, sdk or ws-batch, got ${JSON.stringify(env.BENCH_CLIENT)}`);
  }

  const members = num(env, 'BENCH_HAZELCAST_MEMBERS', 1, (n) => n === 1 || n === 2, '1 or 2');
  const hazelcastHeapMb = num(env, 'BENCH_HAZELCAST_HEAP_MB', 256, (n) => Number.isInteger(n) && n >= 64 && n <= 8192, 'an integer from 64 to 8192');
  const windowMs = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 1000;
  const commitWindowMs = env.BENCH_COMMIT_WINDOW === undefined || env.BENCH_COMMIT_WINDOW.trim() === ''
    ? null
    : num(env, 'BENCH_COMMIT_WINDOW', 0, windowMs, 'an integer number of ms from 0 to 1000');
  const commitWindowSweep = readSweep(env.BENCH_COMMIT_WINDOW_SWEEP, windowMs);
  const troupeNodeFlags = (env.BENCH_TROUPE_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
  const notFlag = troupeNodeFlags.find((f) => !f.startsWith('-'));
  if (notFlag !== undefined) throw new ConfigError(`BENCH_TROUPE_NODE_FLAGS must be node flags (each starting with -), got ${JSON.stringify(notFlag)}`);

  const baselineRaw = env.BENCH_BASELINE?.trim() ?? '';
  const baselineRoot = baselineRaw === '' ? null : resolve(baselineRaw);
  if (baselineRoot !== null && !existsSync(join(baselineRoot, 'bin', 'troupe.js'))) {
    throw new ConfigError(`BENCH_BASELINE must be a checkout with bin/troupe.js and a build in dist/, got ${JSON.stringify(baselineRaw)}`);
  }

  const storePartitionThreads = env.BENCH_STORE_PARTITION_THREADS === undefined || env.BENCH_STORE_PARTITION_THREADS.trim() === ''
    ? null
    : num(env, 'BENCH_STORE_PARTITION_THREADS', 0, positiveInt(256), 'an integer from 1 to 256');
  return Object.freeze({
    seconds,
    warmupSeconds,
    inFlight: Object.freeze(inFlight),
    keys,
    maxCalls,
    only: only && Object.freeze(only),
    client,
    quietWaitSeconds,
    hazelcastMembers: members as 1 | 2,
    hazelcastHeapMb,
    commitWindowMs,
    commitWindowSweep,
    troupeNodeFlags: Object.freeze(troupeNodeFlags),
    baselineRoot,
    storePartitionThreads,
  });
}

/** The commit windows the sweep measures when asked with BENCH_COMMIT_WINDOW_SWEEP=1. */
export const DEFAULT_COMMIT_WINDOW_SWEEP: readonly number[] = Object.freeze([0, 1, 2, 5]);

function readSweep(raw: string | undefined, valid: (n: number) => boolean): readonly number[] | null {
  const text = raw?.trim() ?? '';
  if (text === '' || text === '0' || text.toLowerCase() === 'false') return null;
  if (text === '1' || text.toLowerCase() === 'true') return DEFAULT_COMMIT_WINDOW_SWEEP;
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || !list.every(valid) || new Set(list).size !== list.length) {
    throw new ConfigError(`BENCH_COMMIT_WINDOW_SWEEP must be 1 (for ${DEFAULT_COMMIT_WINDOW_SWEEP.join(',')}) or distinct comma-separated ms from 0 to 1000, got ${JSON.stringify(raw)}`);
  }
  return Object.freeze(list);
}
