import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startMembers } from './member-launcher.js';
import { probeCluster } from './member-probe.js';
import { isOurMember, isPortFree, stopMember } from './member-process.js';
import { clearRunState, readRunState } from './run-state.js';

const USAGE = `usage: troupe hazelcast <command> [options]

  up      start a local Hazelcast cluster in the background
            --members N     members to start (default 2: one owner + one backup for every entry)
            --port P        first port; members use P, P+1, ... (default 5701 if free, else free ports)
            --cluster NAME  cluster name (default troupe)
            --heap MB       heap per member (default 256)
  status  show whether the members recorded in the run folder are alive and accept clients
  down    stop those members (SIGTERM, then SIGKILL after 20 s)

  common  --dir DIR       run folder with PIDs and logs (default .troupe/hazelcast)`;

const DEFAULT_DIR = '.troupe/hazelcast';

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
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        members: { type: 'string' },
        port: { type: 'string' },
        cluster: { type: 'string' },
        dir: { type: 'string' },
        heap: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    err(`troupe hazelcast: ${(e as Error).message}\n${USAGE}`);
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
        return await up(dir, count, basePort, values.cluster ?? 'troupe', heapMb, out, err);
      }
      case 'status':
        return await status(dir, out, err);
      case 'down':
        return await down(dir, err);
      default:
        err(`troupe hazelcast: unknown command '${command}'\n${USAGE}`);
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

async function up(dir: string, count: number, basePort: number | undefined, clusterName: string, heapMb: number, out: Out, err: Out): Promise<number> {
  const existing = readRunState(dir);
  if (existing !== undefined && existing.members.some((m) => isOurMember(m.pid, m.port))) {
    err(`a cluster '${existing.clusterName}' started from ${dir} is still running; 'troupe hazelcast down' first`);
    out(membersLine(existing.members.map((m) => m.address)));
    return 1;
  }
  err(`starting ${count} Hazelcast member(s), cluster '${clusterName}', run folder ${dir}`);
  const started = Date.now();
  const running = await startMembers({ count, basePort, clusterName, dir, heapMb, onProgress: (m) => err(`  ${m}`) });
  err(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s; stop with 'troupe hazelcast down${dir === resolve(DEFAULT_DIR) ? '' : ` --dir ${dir}`}'`);
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
  err(`stopping ${ours.length} member(s) of cluster '${state.clusterName}'`);
  await Promise.all(
    ours.map(async (m) => {
      await stopMember(m.pid, 20_000);
      err(`  stopped ${m.address} (pid ${m.pid})`);
    }),
  );
  clearRunState(dir);
  return 0;
}
