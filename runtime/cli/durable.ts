/**
 * The durable tier as the CLI offers it (`troupe hazelcast up` and `troupe
 * cluster up`): `--durable postgres` starts a PostgreSQL server of our own in
 * the run folder (data kept across `down` and `up`), `--durable-url` points
 * the members at an existing one, `--durable-mode` picks write-through
 * (default) or write-behind.
 */
import { join } from 'node:path';
import { DURABILITY_MODES, type DurabilityMode, type MemberStore, parsePostgresUrl } from './hazelcast/member-store.js';
import { startPostgres, stopPostgres, isOurPostgres } from './postgres/server.js';

export type DurableChoice =
  | { readonly kind: 'none' }
  | { readonly kind: 'local'; readonly mode: DurabilityMode; readonly writeDelaySeconds: number }
  | { readonly kind: 'url'; readonly url: string; readonly mode: DurabilityMode; readonly writeDelaySeconds: number };

/** A PostgreSQL server the CLI started, as the run state records it. */
export interface PostgresRecord {
  readonly pid: number;
  readonly port: number;
  readonly dir: string;
  readonly dataDir: string;
  readonly log: string;
  readonly url: string;
}

export const DURABLE_USAGE = `  --durable postgres     PostgreSQL behind the members: a server of its own in the run folder
                         (<dir>/postgres; data kept by down, remove the folder to start empty)
  --durable-url URL      ...or an existing server: postgres://user:password@host:port/database
                         (or TROUPE_DURABLE_URL, which keeps the password out of ps)
  --durable-mode MODE    write-through (default: a reply leaves once PostgreSQL has the write)
                         or write-behind (batched; a crash of every member loses the last seconds)
  --write-delay S        write-behind: seconds before a change is stored (default 1)`;

export const DURABLE_OPTIONS = {
  durable: { type: 'string' },
  'durable-url': { type: 'string' },
  'durable-mode': { type: 'string' },
  'write-delay': { type: 'string' },
} as const;

export class DurableUsageError extends Error {
  override name = 'DurableUsageError';
}

/** Checks the durable flags where they enter; throws DurableUsageError naming the flag. */
export function parseDurable(v: { durable?: string; 'durable-url'?: string; 'durable-mode'?: string; 'write-delay'?: string }, env: NodeJS.ProcessEnv = process.env): DurableChoice {
  const url = v['durable-url'] ?? (env.TROUPE_DURABLE_URL === '' ? undefined : env.TROUPE_DURABLE_URL);
  if (v.durable !== undefined && v.durable !== 'postgres') throw new DurableUsageError(`--durable must be 'postgres', got '${v.durable}'`);
  if (v.durable !== undefined && url !== undefined) throw new DurableUsageError('--durable postgres starts a server of its own; --durable-url points at an existing one: give one of them');
  const mode = (v['durable-mode'] ?? 'write-through') as DurabilityMode;
  if (!DURABILITY_MODES.includes(mode)) throw new DurableUsageError(`--durable-mode must be ${DURABILITY_MODES.join(' or ')}, got '${v['durable-mode']}'`);
  const delay = v['write-delay'] === undefined ? 1 : Number(v['write-delay']);
  if (!Number.isInteger(delay) || delay < 1 || delay > 3600) throw new DurableUsageError(`--write-delay must be a whole number of seconds from 1 to 3600, got '${v['write-delay']}'`);
  if (v.durable === undefined && url === undefined) {
    if (v['durable-mode'] !== undefined || v['write-delay'] !== undefined) throw new DurableUsageError('--durable-mode and --write-delay need --durable postgres or --durable-url');
    return { kind: 'none' };
  }
  if (mode === 'write-through' && v['write-delay'] !== undefined) throw new DurableUsageError('--write-delay applies to --durable-mode write-behind only');
  if (url !== undefined) {
    try {
      parsePostgresUrl(url);
    } catch (err) {
      throw new DurableUsageError(`--durable-url: ${(err as Error).message}`);
    }
    return { kind: 'url', url, mode, writeDelaySeconds: delay };
  }
  return { kind: 'local', mode, writeDelaySeconds: delay };
}

/**
 * Starts what the choice needs and returns the members' store settings:
 * nothing for `none`, our own server for `local` (recorded with `onStarted`
 * as soon as it runs, so an interrupted `up` still stops it), the URL for `url`.
 */
export async function prepareDurable(
  choice: DurableChoice,
  runDir: string,
  progress: (line: string) => void,
  onStarted: (pg: PostgresRecord) => void = () => {},
): Promise<{ store: MemberStore | undefined; postgres: PostgresRecord | null; description: string }> {
  switch (choice.kind) {
    case 'none':
      return { store: undefined, postgres: null, description: 'memory only (no store): a restart of every member loses all state' };
    case 'url': {
      const u = parsePostgresUrl(choice.url);
      const store: MemberStore = { jdbcUrl: u.jdbcUrl, user: u.user, password: u.password, mode: choice.mode, writeDelaySeconds: choice.writeDelaySeconds };
      return { store, postgres: null, description: `${describeMode(choice)}, PostgreSQL at ${u.host}:${u.port}/${u.database}` };
    }
    case 'local': {
      const dir = join(runDir, 'postgres');
      const pg = await startPostgres({ dir, onProgress: (line) => progress(`postgres: ${line}`) });
      const record: PostgresRecord = { pid: pg.pid, port: pg.port, dir, dataDir: pg.dataDir, log: pg.log, url: pg.url };
      onStarted(record);
      const store: MemberStore = { jdbcUrl: pg.jdbcUrl(), user: pg.user, mode: choice.mode, writeDelaySeconds: choice.writeDelaySeconds };
      return { store, postgres: record, description: `${describeMode(choice)}, PostgreSQL ${pg.url} (pid ${pg.pid}, data in ${pg.dataDir})` };
    }
  }
}

function describeMode(c: Exclude<DurableChoice, { kind: 'none' }>): string {
  return c.mode === 'write-through' ? 'write-through' : `write-behind (every ${c.writeDelaySeconds} s)`;
}

export function isOurRecordedPostgres(pg: PostgresRecord): boolean {
  return isOurPostgres(pg.pid, pg.dataDir);
}

/** Stops a server the CLI started (fast shutdown by PID); its data stays. */
export async function stopRecordedPostgres(pg: PostgresRecord, graceMs = 10_000): Promise<'stopped' | 'gone'> {
  if (!isOurPostgres(pg.pid, pg.dataDir)) return 'gone';
  await stopPostgres(pg.pid, pg.dataDir, graceMs);
  return 'stopped';
}
