/**
 * A PostgreSQL server of Troupe's own, for tests and `troupe cluster up
 * --durable postgres`: Debian's binaries (scripts/fetch-postgres.sh installs
 * them when missing), a data folder we chose, a free port, started with
 * initdb and pg_ctl and stopped by the postmaster's PID. Never the server a
 * distribution package runs on 5432.
 *
 * initdb refuses to run as root, so as root the folder is given to the
 * `postgres` user and every server command runs through `runuser -u postgres`.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../free-port.js';
import { isAlive, waitForExit } from '../hazelcast/member-process.js';
import { fetchPostgresScriptPath } from '../hazelcast/paths.js';

const run = promisify(execFile);

export interface PostgresOptions {
  /** Folder of this server: `data/` (kept across restarts when present), `postgres.log`, the socket. */
  readonly dir: string;
  /** Default: a free port on 127.0.0.1. */
  readonly port?: number;
  /** Addresses to listen on besides 127.0.0.1 (e.g. a test bridge's address). */
  readonly listen?: readonly string[];
  /** Networks (CIDR) whose clients are let in without a password, besides loopback. */
  readonly trustNetworks?: readonly string[];
  readonly database?: string;
  readonly user?: string;
  readonly onProgress?: (line: string) => void;
}

export interface PostgresServer {
  /** The postmaster's PID (from data/postmaster.pid). */
  readonly pid: number;
  readonly port: number;
  readonly dir: string;
  readonly dataDir: string;
  readonly log: string;
  readonly database: string;
  readonly user: string;
  /** `postgres://user@127.0.0.1:port/database`. */
  readonly url: string;
  /** The JDBC URL members use, through `host` (default 127.0.0.1). */
  jdbcUrl(host?: string): string;
  /** Runs SQL with psql and returns its unaligned output (tests, operators). */
  psql(sql: string): Promise<string>;
  /** Fast shutdown by PID (SIGINT), SIGQUIT after `graceMs`; data stays. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

interface Binaries {
  readonly bin: string;
  readonly asPostgres: (command: string, args: string[]) => [string, string[]];
}

let cachedBin: string | undefined;

/** Runs scripts/fetch-postgres.sh once per process: the folder with initdb, pg_ctl, psql. */
export async function postgresBinaries(): Promise<string> {
  if (cachedBin !== undefined) return cachedBin;
  const { stdout } = await run('bash', [fetchPostgresScriptPath()], { timeout: 900_000, maxBuffer: 1 << 20 }).catch((err: { stderr?: string; message: string }) => {
    throw new Error(`PostgreSQL binaries not available: ${err.stderr?.trim().split('\n').slice(-3).join(' | ') || err.message}`);
  });
  const bin = stdout.trim().split('\n').pop() ?? '';
  if (!existsSync(join(bin, 'initdb'))) throw new Error(`fetch-postgres.sh printed '${bin}', which has no initdb`);
  return (cachedBin = bin);
}

async function binaries(): Promise<Binaries> {
  const bin = await postgresBinaries();
  const root = process.getuid?.() === 0;
  return {
    bin,
    asPostgres: (command, args) => (root ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args]),
  };
}

/** uid and gid of the `postgres` user, which owns the server's folder when we are root. */
async function postgresIds(): Promise<[number, number]> {
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return [Number(uid.trim()), Number(gid.trim())];
}

function readPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` is a postmaster serving `dataDir` (PIDs are reused: never signal a stranger). */
export function isOurPostgres(pid: number, dataDir: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const d = argv.indexOf('-D');
    return d >= 0 && argv[d + 1] === dataDir;
  } catch {
    return process.platform !== 'linux';
  }
}

/** Stops the postmaster serving `dataDir` by PID: SIGINT (fast: no new work, in-flight rolled back), SIGQUIT if it lingers. */
export async function stopPostgres(pid: number, dataDir: string, graceMs = 10_000): Promise<void> {
  if (!isOurPostgres(pid, dataDir)) return;
  process.kill(pid, 'SIGINT');
  if (await waitForExit(pid, graceMs)) return;
  if (isOurPostgres(pid, dataDir)) process.kill(pid, 'SIGQUIT');
  await waitForExit(pid, 5_000);
}

/**
 * Starts a server in `o.dir` (initdb first when `data/` is new) and resolves
 * once it accepts connections and the database exists. On failure whatever
 * was started is stopped again.
 */
export async function startPostgres(o: PostgresOptions): Promise<PostgresServer> {
  const progress = o.onProgress ?? (() => {});
  const b = await binaries();
  const user = o.user ?? 'troupe';
  const database = o.database ?? 'troupe';
  const dataDir = join(o.dir, 'data');
  const log = join(o.dir, 'postgres.log');
  mkdirSync(o.dir, { recursive: true });
  if (process.getuid?.() === 0) {
    const [uid, gid] = await postgresIds();
    chownSync(o.dir, uid, gid);
    // The server runs as `postgres`: every folder above its own must let that user through.
    await run('runuser', ['-u', 'postgres', '--', 'test', '-w', o.dir]).catch(() => {
      throw new Error(`the postgres user cannot reach ${o.dir}: a folder above it is closed to other users (chmod o+x it, or choose another --dir)`);
    });
  }
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  if (fresh) {
    progress(`initdb ${dataDir}`);
    const [cmd, args] = b.asPostgres('initdb', ['-D', dataDir, '-A', 'trust', '-U', user, '-E', 'UTF8', '--no-instructions']);
    await run(cmd, args, { timeout: 120_000 }).catch((err: { stderr?: string; message: string }) => {
      throw new Error(`initdb failed: ${err.stderr?.trim().split('\n').slice(-3).join(' | ') || err.message}`);
    });
    // initdb admits only loopback; tests add the networks of their namespaces.
    for (const net of o.trustNetworks ?? []) appendFileSync(join(dataDir, 'pg_hba.conf'), `host all all ${net} trust\n`);
  }
  const port = o.port ?? (await freePort());
  const listen = ['127.0.0.1', ...(o.listen ?? [])].join(',');
  const leftover = readPid(dataDir);
  if (leftover !== undefined && isOurPostgres(leftover, dataDir)) throw new Error(`a PostgreSQL server (pid ${leftover}) already serves ${dataDir}`);
  progress(`starting PostgreSQL on port ${port} (${listen}), log ${log}`);
  const [cmd, args] = b.asPostgres('pg_ctl', ['-D', dataDir, '-l', log, '-w', '-t', '60', '-o', `-p ${port} -k ${o.dir} -c listen_addresses=${listen}`, 'start']);
  try {
    await run(cmd, args, { timeout: 90_000 });
  } catch (err) {
    const pid = readPid(dataDir);
    if (pid !== undefined) await stopPostgres(pid, dataDir, 2_000);
    throw new Error(`PostgreSQL did not start: ${logTail(log)}`, { cause: err });
  }
  const pid = readPid(dataDir);
  if (pid === undefined) throw new Error(`pg_ctl started PostgreSQL but ${dataDir}/postmaster.pid is missing: ${logTail(log)}`);

  const psql = async (sql: string, db = database): Promise<string> => {
    const { stdout } = await run(join(b.bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', db, '-v', 'ON_ERROR_STOP=1', '-qAtX', '-c', sql], { timeout: 60_000, maxBuffer: 64 << 20 });
    return stdout.trim();
  };
  let stopped = false;
  const server: PostgresServer = {
    pid, port, dir: o.dir, dataDir, log, database, user,
    url: `postgres://${user}@127.0.0.1:${port}/${database}`,
    jdbcUrl: (host = '127.0.0.1') => `jdbc:postgresql://${host}:${port}/${database}`,
    psql: (sql) => psql(sql),
    async stop(graceMs = 10_000) {
      if (stopped) return;
      stopped = true;
      await stopPostgres(pid, dataDir, graceMs);
    },
  };
  try {
    if ((await psql(`SELECT 1 FROM pg_database WHERE datname = '${database.replace(/'/g, "''")}'`, 'postgres')) !== '1') {
      await psql(`CREATE DATABASE "${database.replace(/"/g, '""')}"`, 'postgres');
    }
  } catch (err) {
    await server.stop(2_000);
    throw err;
  }
  progress(`PostgreSQL ready: ${server.url} (pid ${pid})`);
  return server;
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-8).join(' | ');
  } catch {
    return '(no log)';
  }
}

