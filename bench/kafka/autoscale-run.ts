/**
 * The elasticity run of issue 14, on one machine: `troupe cluster up` with a
 * Kafka broker and one node reading the topic, `troupe cluster autoscale`
 * started, then a producer burst. The loop adds nodes while lag is past what
 * the nodes may carry and drains them once it stays low; at the end the
 * check script compares every account with what was produced, and a bare
 * kafkajs consumer reads the same topic on the same broker in the same run,
 * so the intake's records/s has its ceiling beside it.
 *
 *   npm run build && node dist/bench/kafka/autoscale-run.js
 *   BENCH_AUTOSCALE_RECORDS=200000 BENCH_AUTOSCALE_MAX_NODES=3 BENCH_AUTOSCALE_LAG_TARGET=10000
 *   BENCH_AUTOSCALE_NODE_FLAGS="--idem-max 4"   (extra flags for every node)
 *
 * Writes bench/results/<date>-autoscale-<commit>.json (timeline, summary,
 * bare read, check) and prints the timeline's changes and a sample every
 * few seconds. Every process it starts is stopped by `troupe cluster down`.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TimelineEntry } from '../../runtime/cli/cluster/autoscale.js';
import { readState } from '../../runtime/cli/cluster/state.js';
import { bareKafkajsRead } from './bare-read.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(root, 'bin', 'troupe.js');
const ingest = (name: string): string => join(root, 'dist', 'examples', 'ingest', `${name}.js`);

const RECORDS = Number(process.env.BENCH_AUTOSCALE_RECORDS ?? 200_000);
const MAX_NODES = Number(process.env.BENCH_AUTOSCALE_MAX_NODES ?? 3);
const LAG_TARGET = Number(process.env.BENCH_AUTOSCALE_LAG_TARGET ?? 10_000);
/** Extra `troupe start` flags for every node (`troupe cluster up ... -- FLAGS`), e.g. "--idem-max 4". */
const NODE_FLAGS = (process.env.BENCH_AUTOSCALE_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
const PARTITIONS = 12;
const ACCOUNTS = 1_000;
const TOPIC = 'payments';
/** The whole loop ends by this time, caught up or not. */
const LOOP_LIMIT_S = 600;

const dir = mkdtempSync(join(tmpdir(), 'troupe-autoscale-run-'));
const log = (m: string): void => void process.stderr.write(`[autoscale-run] ${m}\n`);

function cluster(args: readonly string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  // --dir right after the subcommand: anything after a `--` in args is the nodes' flags.
  return run(process.execPath, [bin, 'cluster', args[0]!, '--dir', dir, ...args.slice(1)], { timeout: timeoutMs, maxBuffer: 1 << 24 });
}

/** The autoscale loop as a child process, its JSON lines collected as they come. */
function startLoop(): Promise<(TimelineEntry & { summary?: Record<string, number | null> })[]> {
  const args = ['cluster', 'autoscale', '--dir', dir, '--max-nodes', String(MAX_NODES), '--lag-target', String(LAG_TARGET),
    '--interval', '1000', '--cooldown', '8000', '--horizon', '20', '--until-idle', '--duration', String(LOOP_LIMIT_S), '--json'];
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts.filter((l) => l !== ''));
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => process.stderr.write(chunk));
  return new Promise((done, fail) => {
    child.on('exit', (code) => {
      if (buffered !== '') lines.push(buffered);
      if (code !== 0) fail(new Error(`autoscale exited ${code}`));
      else done(lines.map((l) => JSON.parse(l) as TimelineEntry));
    });
  });
}

async function main(): Promise<void> {
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  log(`run folder ${dir}; ${RECORDS} records, ${ACCOUNTS} accounts, ${PARTITIONS} partitions; nodes 1..${MAX_NODES}, lag target ${LAG_TARGET} per node`);
  const nodeFlags = NODE_FLAGS.length > 0 ? ['--', ...NODE_FLAGS] : [];
  await cluster(['up', '--nodes', '1', '--hazelcast-members', '1', '--kafka-stream', `${TOPIC}:Account.deposit`, '--kafka-partitions', String(PARTITIONS), ...nodeFlags], 300_000);
  const bootstrap = readState(dir)!.kafka!.bootstrap;
  const loop = startLoop();
  const expected = join(dir, 'expected.json');
  const produced = JSON.parse((await run(process.execPath, [ingest('produce'), '--brokers', bootstrap, '--topic', TOPIC, '--count', String(RECORDS), '--accounts', String(ACCOUNTS), '--expected', expected], { timeout: 300_000 })).stdout) as { records: number; total: number; seconds: number };
  log(`produced ${produced.records} records in ${produced.seconds} s`);
  const entries = await loop;
  const summary = entries.at(-1)!.summary!;
  const timeline = entries.slice(0, -1);
  const node1 = readState(dir)!.nodes.find((n) => n.id === 'node-1')!;
  const check = JSON.parse((await run(process.execPath, [ingest('check'), '--url', `ws://127.0.0.1:${node1.port}/v1/ws`, '--expected', expected, '--wait', '60'], { timeout: 90_000 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '{}' }))).stdout) as unknown;
  log(`check: ${JSON.stringify(check)}`);
  // Same broker, same topic, same run: the ceiling of any consumer here.
  const bare = await bareKafkajsRead([bootstrap], TOPIC, RECORDS, 'bench-bare-read', 120_000);
  log(`bare kafkajs read: ${bare.records} records in ${bare.seconds.toFixed(2)} s = ${Math.round(bare.perSecond)} records/s`);
  const result = {
    commit, node: process.version, date: new Date().toISOString(), records: RECORDS, accounts: ACCOUNTS, partitions: PARTITIONS,
    maxNodes: MAX_NODES, lagTarget: LAG_TARGET, producer: produced, summary, check, bare,
    intakeVsBare: summary.applied_per_s === null || summary.applied_per_s === undefined ? null : Number(summary.applied_per_s) / bare.perSecond,
    timeline,
  };
  const out = join(root, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}-autoscale-${commit}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  for (const e of timeline.filter((x, i) => x.action !== 'hold' || i % 5 === 0 || i === timeline.length - 1)) {
    process.stdout.write(`t=${e.t_s.toFixed(1)}s lag=${e.lag} nodes=${e.nodes} ${e.action}${e.node === undefined ? '' : ` ${e.node}`} (${e.why})\n`);
  }
  process.stdout.write(`${JSON.stringify({ summary, bare, intakeVsBare: result.intakeVsBare, check, results: out })}\n`);
}

try {
  await main();
} finally {
  await cluster(['down', '--grace', '15000'], 120_000).catch((e: Error) => log(`down: ${e.message}`));
  rmSync(dir, { recursive: true, force: true });
}
