/**
 * The bench runner: starts each scenario's server side, runs one load process
 * per in-flight level against it, stops it, and prints one table with the
 * Troupe / peer ratios. Progress goes to stderr, the table to stdout, and the
 * full results to .troupe/bench/latest.json and bench/results/<day>-<commit>.json.
 *
 * Run with `npm run bench`; settings are in config.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, readConfig, type BenchConfig } from './config.js';
import type { DriverSpec } from './drivers/index.js';
import { sdkAvailable } from './drivers/troupe-sdk.js';
import type { LoadPlan } from './load/closed-loop.js';
import type { LoadReport } from './load/report.js';
import { waitForQuiet } from './lib/cpu.js';
import { gitDescribe } from './lib/git-commit.js';
import { keepResults } from './lib/results-file.js';
import type { DurabilityMode } from '../runtime/cli/hazelcast/members.js';
import { defaultRunDir, SharedHazelcast } from './lib/hazelcast-cluster.js';
import { runForJson } from './lib/processes.js';
import { formatRatios, formatRows, isMeasured, ratios, type Row } from './lib/report.js';
import { isSkipped, type Scenario, type ScenarioContext, type Target } from './scenario.js';
import { scenariosFor } from './scenarios/index.js';

/** dist/bench/run.js → the repository root. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOAD = fileURLToPath(new URL('./load/main.js', import.meta.url));

/** BENCH_QUIET_WAIT_SECONDS waits for other processes to use less than this, in % of one core. */
const QUIET_PCT = 10;
const QUIET_ATTEMPTS = 4;

/** Another process's load skews a row (up at 1 in flight, down when CPU-bound); say so under the table. */
const OTHER_CPU_WARN_PCT = 15;

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function resolveClient(config: BenchConfig): ScenarioContext['wsClient'] {
  const sdk = sdkAvailable();
  if (config.client === 'sdk' && !sdk) throw new ConfigError('BENCH_CLIENT=sdk, but dist/client/index.js is not built');
  if (config.client === 'ws-batch') return 'ws-batch';
  return sdk ? 'troupe-sdk' : 'ws-batch';
}

async function runLoad(driver: DriverSpec, plan: LoadPlan): Promise<LoadReport> {
  const out = await runForJson({
    name: `load (${driver.name}, ${plan.inFlight} in flight)`,
    command: process.execPath,
    args: [LOAD, JSON.stringify({ driver, plan })],
    timeoutMs: plan.warmupMs + plan.measureMs + 90_000,
  }) as Partial<LoadReport> & { error?: string };
  if (typeof out.error === 'string') throw new Error(out.error);
  return out as LoadReport;
}

const otherCpu = (r: LoadReport): number => r.cpu?.other ?? 0;

/**
 * One row. With BENCH_QUIET_WAIT_SECONDS set, waits for a quiet machine first
 * and measures again (at most QUIET_ATTEMPTS times in all) when other
 * processes still disturbed the window, keeping the least disturbed result.
 */
async function measureRow(target: Target, plan: LoadPlan, config: BenchConfig, say: (line: string) => void): Promise<LoadReport> {
  if (config.quietWaitSeconds === 0) return runLoad(target.driver, plan);
  let best: LoadReport | undefined;
  for (let attempt = 1; attempt <= QUIET_ATTEMPTS; attempt++) {
    const before = await waitForQuiet(target.pids, config.quietWaitSeconds * 1000, QUIET_PCT);
    if (before !== null && before >= QUIET_PCT) say(`machine still busy after ${config.quietWaitSeconds} s (other processes ${before}% of a core); measuring anyway`);
    const result = await runLoad(target.driver, plan);
    if (best === undefined || otherCpu(result) < otherCpu(best)) best = result;
    if (otherCpu(best) <= OTHER_CPU_WARN_PCT) break;
    if (attempt < QUIET_ATTEMPTS) say(`${plan.inFlight} in flight: other processes used ${otherCpu(result)}% of a core during the window; measuring again (${attempt}/${QUIET_ATTEMPTS})`);
  }
  return best!;
}

async function runScenario(scenario: Scenario, config: BenchConfig, wsClient: ScenarioContext['wsClient'], hazelcast: (store?: DurabilityMode) => SharedHazelcast): Promise<Row[]> {
  const say = (line: string): void => progress(`${scenario.name}: ${line}`);
  const none = (status: 'skipped' | 'failed', reason: string): Row[] =>
    config.inFlight.map((inFlight) => ({ scenario: scenario.name, kind: scenario.kind, inFlight, status, reason }));

  say('starting');
  let target;
  try {
    target = await scenario.start({ root: ROOT, config, wsClient, progress: say, hazelcast: (store) => hazelcast(store).get() });
  } catch (err) {
    say(`failed to start: ${message(err)}`);
    return none('failed', message(err));
  }
  if (isSkipped(target)) {
    say(`skipped: ${target.skipped}`);
    return none('skipped', target.skipped);
  }

  const rows: Row[] = [];
  try {
    for (const inFlight of config.inFlight) {
      const plan: LoadPlan = {
        inFlight,
        warmupMs: Math.round(config.warmupSeconds * 1000),
        measureMs: Math.round(config.seconds * 1000),
        maxCalls: config.maxCalls,
        keys: config.keys,
        ...(target.keyNames === undefined ? {} : { keyNames: target.keyNames }),
        serverPids: target.pids,
      };
      say(`${inFlight} in flight: ${config.warmupSeconds} s warm-up + ${config.seconds} s measured (${target.driver.name} client)`);
      try {
        const result = await measureRow(target, plan, config, say);
        rows.push({ scenario: scenario.name, kind: scenario.kind, client: target.driver.name, result });
        const stats = Object.entries(result.driverStats ?? {}).map(([k, v]) => `, ${v} ${k}`).join('');
        say(`${inFlight} in flight: ${result.callsPerSecond.toLocaleString('en-US')} calls/s, p50 ${result.latencyUs.p50} µs, p99 ${result.latencyUs.p99} µs, ${result.errors} errors${stats}`);
      } catch (err) {
        say(`${inFlight} in flight failed: ${message(err)}`);
        rows.push({ scenario: scenario.name, kind: scenario.kind, inFlight, status: 'failed', reason: message(err) });
      }
    }
  } finally {
    await target.stop();
    say('stopped');
  }
  return rows;
}

function busyWarning(rows: readonly Row[]): string[] {
  const busy = rows.filter(isMeasured).filter((r) => (r.result.cpu?.other ?? 0) > OTHER_CPU_WARN_PCT);
  if (busy.length === 0) return [];
  const worst = Math.max(...busy.map((r) => r.result.cpu?.other ?? 0));
  return [`warning: the machine was not idle (other processes up to ${worst}% of a core in ${busy.length} rows); rerun on a quiet machine before quoting these figures.`];
}

async function main(): Promise<void> {
  let config: BenchConfig;
  let wsClient: ScenarioContext['wsClient'];
  try {
    config = readConfig(process.env);
    wsClient = resolveClient(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`bench: ${err.message}\n`);
    process.exit(2);
  }

  const scenarios = scenariosFor(config);
  const selects = (s: Scenario, n: string): boolean => s.name === n || s.family === n;
  const chosen = config.only === null ? scenarios : scenarios.filter((s) => config.only!.some((n) => selects(s, n)));
  const unknown = (config.only ?? []).filter((n) => !scenarios.some((s) => selects(s, n)));
  if (unknown.length > 0) {
    process.stderr.write(`bench: BENCH_ONLY names unknown scenarios: ${unknown.join(', ')} (known: ${scenarios.map((s) => s.name).join(', ')})\n`);
    process.exit(2);
  }

  const startedAt = new Date();
  progress(`${chosen.length} scenarios × in-flight ${config.inFlight.join(', ')}; ${config.warmupSeconds} s warm-up + ${config.seconds} s per row; WebSocket client: ${wsClient}`);
  // Started by the first hazelcast row that asks, shared by the others, stopped here:
  // one set without a store, and one per durability mode (each with its own PostgreSQL).
  const clusters = new Map<string, SharedHazelcast>();
  const hazelcast = (store?: DurabilityMode): SharedHazelcast => {
    const key = store ?? 'memory';
    let shared = clusters.get(key);
    if (shared === undefined) {
      shared = new SharedHazelcast({
        members: config.hazelcastMembers,
        heapMb: config.hazelcastHeapMb,
        dir: store === undefined ? defaultRunDir(ROOT) : `${defaultRunDir(ROOT)}-${store}`,
        progress: (line) => progress(`hazelcast${store === undefined ? '' : ` ${store}`}: ${line}`),
        ...(store === undefined ? {} : { store }),
        ...(store === 'write-through' && config.storePartitionThreads !== null ? { partitionThreads: config.storePartitionThreads } : {}),
      });
      clusters.set(key, shared);
    }
    return shared;
  };
  const rows: Row[] = [];
  const hazelcastLines: string[] = [];
  try {
    for (const scenario of chosen) rows.push(...await runScenario(scenario, config, wsClient, hazelcast));
  } finally {
    for (const shared of clusters.values()) {
      const line = shared.describe();
      if (line !== null) hazelcastLines.push(line);
      await shared.stop();
    }
  }
  const hazelcastLine = hazelcastLines.length === 0 ? null : hazelcastLines.join('; ');
  const ratioList = ratios(rows, chosen);

  const cpuList = cpus();
  const machine = {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
  const commit = gitDescribe(ROOT);

  const out = [
    '',
    `Counter.add(1), closed loop: ${config.keys} counter keys round-robin; per row ${config.warmupSeconds} s warm-up, then ${config.seconds} s measured (or ${config.maxCalls.toLocaleString('en-US')} calls)`,
    `One load process per row; servers in their own processes; all on 127.0.0.1. ${machine.node}, ${machine.platform}, ${machine.cpus} CPUs (${machine.cpuModel}), commit ${commit ?? 'unknown'}`,
    ...(hazelcastLine === null ? [] : [`${hazelcastLine}; their CPU is in "server CPU" of those rows.`]),
    '',
    formatRows(rows),
    'CPU: percent of one core over the measured window; "other" is every process outside the row (interrupt time, mostly the row\'s own loopback traffic, is left out; see "irq" in the JSON).',
    ...busyWarning(rows),
    '',
    formatRatios(ratioList),
    '',
    ...chosen.map((s) => `  ${s.name}: ${s.description}`),
    `  client ws-batch: the bench's own ws + msgpack client (bench/drivers/ws-batch.ts); troupe-sdk: dist/client`,
    '',
  ];
  process.stdout.write(out.join('\n'));

  const dir = join(ROOT, '.troupe', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'latest.json');
  const json = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    commit,
    machine,
    config,
    workload: { call: 'Counter.add(1)', keys: config.keys, loop: 'closed' },
    scenarios: chosen.map((s) => ({ name: s.name, kind: s.kind, group: s.group ?? 'in-memory', description: s.description, ...(s.targets ? { targets: s.targets } : {}) })),
    ...(hazelcastLine === null ? {} : { hazelcast: hazelcastLine }),
    rows,
    ratios: ratioList,
  };
  const text = `${JSON.stringify(json, null, 2)}\n`;
  writeFileSync(file, text);
  // Also under bench/results/ (commit it with the table it produced).
  const kept = keepResults(ROOT, startedAt, commit, config.only === null ? '' : '-partial', text);
  progress(`results written to ${file} and ${kept}`);
}

await main();
