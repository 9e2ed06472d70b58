/**
 * `npm run chaos`: one chaos run from the command line.
 *
 *   node dist/test/chaos/main.js [--faults kill,pause,partition,member,agent,restart] [--seconds N] [--seed N]
 *     [--accounts N] [--closed-accounts N] [--workers N] [--relay-workers N] [--reminder-workers N]
 *     [--counter-workers N] [--counter-keys N] [--members N] [--max-transfers N] [--logs DIR]
 *     [--node-flags "--read-lease 1000 ..."]
 *
 * `--faults` defaults to kill,restart; see faults.ts for what each does.
 * partition and agent need root and iproute2 (a network namespace per node).
 *
 * `--seconds` defaults to CHAOS_SECONDS, else 60. Progress goes to stderr;
 * the summary and one JSON line (`"event":"chaos_summary"`) to stdout.
 * Exit code: 0 without violations, 1 with violations, 2 if the run itself
 * could not be carried out (bad option, cluster did not start).
 */
import { chaosOptions, runChaos, type ChaosOptions } from './run.js';
import { parseFaults } from './faults.js';
import { formatReport, reportJson } from './report.js';

const FLAGS: Record<string, keyof ChaosOptions> = {
  '--seconds': 'seconds',
  '--seed': 'seed',
  '--accounts': 'accounts',
  '--closed-accounts': 'closedAccounts',
  '--workers': 'workers',
  '--relay-workers': 'relayWorkers',
  '--reminder-workers': 'reminderWorkers',
  '--counter-workers': 'counterWorkers',
  '--counter-keys': 'counterKeys',
  '--members': 'members',
  '--faults': 'faults',
  '--max-transfers': 'maxTransfers',
  '--logs': 'logDir',
  '--node-flags': 'nodeFlags',
};

function parseArgs(argv: readonly string[]): Partial<ChaosOptions> {
  const out: Record<string, unknown> = {};
  const env = process.env.CHAOS_SECONDS;
  if (env !== undefined && env !== '') out.seconds = Number(env);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const name = FLAGS[flag];
    if (name === undefined) throw new TypeError(`unknown option ${arg}; known: ${Object.keys(FLAGS).join(', ')}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new TypeError(`${flag} needs a value`);
    out[name] = name === 'logDir' ? value : name === 'nodeFlags' ? value.split(/\s+/).filter((f) => f !== '') : name === 'faults' ? parseFaults(value) : Number(value);
  }
  return out as Partial<ChaosOptions>;
}

async function main(): Promise<number> {
  let options: ChaosOptions;
  try {
    options = chaosOptions(parseArgs(process.argv.slice(2)));
  } catch (err) {
    process.stderr.write(`chaos: ${(err as Error).message}\n`);
    return 2;
  }
  // Ctrl-C: exit through process.exit, so the fixtures' exit hooks kill every process they started, by PID.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`[chaos] ${signal}: stopping every process of the run\n`);
      process.exit(130);
    });
  }
  try {
    const report = await runChaos(options);
    process.stdout.write(`${formatReport(report)}\n${reportJson(report)}\n`);
    return report.ok ? 0 : 1;
  } catch (err) {
    process.stderr.write(`chaos: the run could not be carried out: ${(err as Error).stack ?? String(err)}\n`);
    return 2;
  }
}

// The fixtures' clients and timers may keep the loop alive a moment: exit with the verdict.
process.exit(await main());
