import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DURABLE_OPTIONS, DURABLE_USAGE, DurableUsageError, type DurableChoice, isOurRecordedPostgres, parseDurable, prepareDurable, stopRecordedPostgres } from '../durable.js';
import { forgetLost } from './forget.js';
import { startMembers } from './member-launcher.js';
import { probeCluster } from './member-probe.js';
import { isOurMember, isPortFree, stopMember } from './member-process.js';
import { clearRunState, readRunState } from './run-state.js';
import { didYouMean } from '../../did-you-mean.js';
import { explainParseError } from '../parse-options.js';
import { createProgress } from '../progress.js';

const USAGE = `usage: troupe hazelcast <command> [options]

  up      start a local Hazelcast cluster in the background
            --members N     members to start (default 2: one owner + one backup for every entry)
            --port P        first port; members use P, P+1, ... (default 5701 if free, else free ports)
            --cluster NAME  cluster name (default troupe)
            --heap MB       heap per member (default 256)
            --partition-threads N  partition threads per member (a write-through store runs on them)
${DURABLE_USAGE.replace(/^/gm, '          ')}
  status  show whether the members recorded in the run folder are alive and accept clients
  down    stop those members (SIGTERM, then SIGKILL after 20 s), then the PostgreSQL server up started
  forget-lost TYPE KEY...   after E_DATA_LOST, once the record is known to be unrecoverable:
            drop the actors' existence markers so their next call starts them afresh
            (members and cluster from the run folder, or --hazelcast-members host:port,... --cluster NAME)

  common  --dir DIR       run folder with PIDs and logs (default .troupe/hazelcast)

examples:
  troupe hazelcast up                      # two members on 5701, 5702
  troupe hazelcast up --members 3 --heap 512
  troupe hazelcast status
  troupe hazelcast down`;

const DEFAULT_DIR = '.troupe/hazelcast';
const COMMANDS = ['up', 'status', 'down', 'forget-lost'];

const OPTIONS = {
  members: { type: 'string' },
  port: { type: 'string' },
  cluster: { type: 'string' },
  dir: { type: 'string' },
  heap: { type: 'string' },
  'partition-threads': { type: 'string' },
  'hazelcast-members': { type: 'string' },
  ...DURABLE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

type Out = (line: string) => void;

/**
 * `troupe hazelcast up|status|down`. Returns the process exit code: 0 done,
 * 1 failed, 2 bad usage. Prints progress to stderr and the lines meant for a
 * shell (`TROUPE_HAZELCAST_MEMBERS=...`) to stdout.
 */
export async function hazelcastCommand(argv: string[]): Promise<number> {
  const out: Out = (line) => process.stdout.write(`${line}\n`);
  const err: Out = (line) => process.stderr.write(`${line}\n`);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    err(`troupe hazelcast: ${explainParseError(e, OPTIONS)} (see troupe hazelcast --help)`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help === true || command === undefined) {
    (values.help === true ? out : err)(USAGE);
    return values.help === true ? 0 : 2;
  }
  const dir = resolve(values.dir ?? DEFAULT_DIR);
  try {
    switch (command) {
      case 'up': {
        const count = positiveInt(values.members ?? '2', '--members');
        const heapMb = positiveInt(values.heap ?? '256', '--heap');
        const basePort = values.port === undefined ? await defaultBasePort(count) : positiveInt(values.port, '--port');
        const partitionThreads = values['partition-threads'] === undefined ? undefined : positiveInt(values['partition-threads'], '--partition-threads');
        let durable: DurableChoice;
        try {
          durable = parseDurable(values);
        } catch (e) {
          if (e instanceof DurableUsageError) throw new UsageError(e.message);
          throw e;
        }
        return await up(dir, { count, basePort, clusterName: values.cluster ?? 'troupe', heapMb, partitionThreads, durable }, out, err);
      }
      case 'status':
        return await status(dir, out, err);
      case 'down':
        return await down(dir, err);
      case 'forget-lost': {
        const [type, ...keys] = positionals.slice(1);
        if (type === undefined || keys.length === 0) throw new UsageError('forget-lost needs an actor type and at least one key: troupe hazelcast forget-lost Counter c1');
        const state = readRunState(dir);
        const members = values['hazelcast-members']?.split(',') ?? state?.members.map((m) => m.address);
        const clusterName = values.cluster ?? state?.clusterName;
        if (members === undefined || clusterName === undefined) throw new UsageError(`no cluster recorded in ${dir}: give --hazelcast-members host:port,... and --cluster NAME`);
        const r = await forgetLost(clusterName, members, type, keys);
        for (const k of r.forgotten) out(`forgot ${type}/${k}: its next call starts it from its initial state`);
        for (const k of r.notLost) err(`${type}/${k} is not lost (its record is there): left alone`);
        for (const k of r.unknown) err(`${type}/${k} has no existence marker: nothing to forget`);
        return r.notLost.length + r.unknown.length === 0 ? 0 : 1;
      }
      default:
        err(`troupe hazelcast: unknown command '${command}'${didYouMean(command, COMMANDS)} (see troupe hazelcast --help)`);
        return 2;
    }
  } catch (e) {
    err(`troupe hazelcast ${command}: ${(e as Error).message}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

class UsageError extends Error {}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got '${text}'`);
  return n;
}

/** 5701.. is what every Hazelcast example assumes; when taken, let the OS pick rather than fail. */
async function defaultBasePort(count: number): Promise<number | undefined> {
  for (let i = 0; i < count; i++) if (!(await isPortFree(5701 + i))) return undefined;
  return 5701;
}

function membersLine(addresses: readonly string[]): string {
  return `TROUPE_HAZELCAST_MEMBERS=${addresses.join(',')}`;
}

interface UpOptions {
  readonly count: number;
  readonly basePort: number | undefined;
  readonly clusterName: string;
  readonly heapMb: number;
  readonly partitionThreads: number | undefined;
  readonly durable: DurableChoice;
}

async function up(dir: string, o: UpOptions, out: Out, err: Out): Promise<number> {
  const existing = readRunState(dir);
  if (existing !== undefined && (existing.members.some((m) => isOurMember(m.pid, m.port)) || (existing.postgres != null && isOurRecordedPostgres(existing.postgres)))) {
    err(`a cluster '${existing.clusterName}' started from ${dir} is still running; 'troupe hazelcast down' first`);
    out(membersLine(existing.members.map((m) => m.address)));
    return 1;
  }
  const { count, basePort, clusterName, heapMb } = o;
  const progress = createProgress();
  progress.note(`starting ${count} Hazelcast member(s), cluster '${clusterName}', run folder ${dir}`);
  const started = Date.now();
  const durable = o.durable.kind === 'local'
    ? await progress.step('starting PostgreSQL for the durable tier', (detail) => prepareDurable(o.durable, dir, detail))
    : await prepareDurable(o.durable, dir, () => {});
  progress.note(`durability: ${durable.description}`);
  let running;
  try {
    running = await startMembers({
      count, basePort, clusterName, dir, heapMb, steps: progress.step,
      ...(durable.store === undefined ? {} : { store: durable.store }),
      ...(o.partitionThreads === undefined ? {} : { partitionThreads: o.partitionThreads }),
      record: { postgres: durable.postgres, durability: durable.description },
    });
  } catch (e) {
    if (durable.postgres !== null) await stopRecordedPostgres(durable.postgres);
    throw e;
  }
  progress.note(`split-brain quorum: ${running.quorum === 0 ? `off (${count} member(s): a survivor cannot tell a crash from a cut)` : `${running.quorum} of ${count} members`}`);
  progress.note(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s; stop with 'troupe hazelcast down${dir === resolve(DEFAULT_DIR) ? '' : ` --dir ${dir}`}'`);
  out(membersLine(running.members.map((m) => m.address)));
  out(`TROUPE_HAZELCAST_CLUSTER=${clusterName}`);
  return 0;
}

async function status(dir: string, out: Out, err: Out): Promise<number> {
  const state = readRunState(dir);
  if (state === undefined) {
    err(`no cluster recorded in ${dir}`);
    return 1;
  }
  let alive = 0;
  for (const m of state.members) {
    const up = isOurMember(m.pid, m.port);
    if (up) alive++;
    out(`member ${m.address} pid ${m.pid}: ${up ? 'running' : 'not running'}`);
  }
  if (state.postgres != null) out(`postgresql ${state.postgres.url} pid ${state.postgres.pid}: ${isOurRecordedPostgres(state.postgres) ? 'running' : 'not running'} (data ${state.postgres.dataDir})`);
  if (state.durability !== undefined && state.durability !== '') out(`durability: ${state.durability}`);
  if (alive === 0) return 1;
  try {
    const seen = await probeCluster(state.clusterName, state.members.map((m) => m.address), 5_000);
    out(`cluster '${state.clusterName}': a client sees ${seen} member(s)`);
    out(membersLine(state.members.map((m) => m.address)));
    return alive === state.members.length && seen === state.members.length ? 0 : 1;
  } catch (e) {
    out(`cluster '${state.clusterName}': no member accepts clients (${(e as Error).message})`);
    return 1;
  }
}

async function down(dir: string, err: Out): Promise<number> {
  const state = readRunState(dir);
  if (state === undefined) {
    err(`no cluster recorded in ${dir}; nothing to stop`);
    return 0;
  }
  // Only PIDs that are still our members: after a reboot they may belong to someone else.
  const ours = state.members.filter((m) => isOurMember(m.pid, m.port));
  const progress = createProgress();
  await progress.step(`stopping ${ours.length} member(s) of cluster '${state.clusterName}'`, (detail) =>
    Promise.all(
      ours.map(async (m) => {
        await stopMember(m.pid, 20_000);
        detail(`stopped ${m.address} (pid ${m.pid})`);
      }),
    ),
  );
  const pg = state.postgres;
  if (pg != null && isOurRecordedPostgres(pg)) {
    await progress.step(`stopping PostgreSQL (pid ${pg.pid})`, async (detail) => {
      await stopRecordedPostgres(pg);
      detail(`its data stays in ${pg.dataDir}`);
    });
  }
  clearRunState(dir);
  return 0;
}
