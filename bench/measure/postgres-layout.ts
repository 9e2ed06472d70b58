/**
 * Which table layout the members' PostgreSQL store uses, measured (not a
 * test, not the bench/ suite): starts a fresh PostgreSQL server of its own
 * (runtime/cli/postgres, a temp folder, a free port), runs
 * bench/measure/PostgresLayout.java against it with the member store jar on
 * the classpath (for the JDBC driver), prints its figures and stops the
 * server by PID.
 *
 *   npx tsc -p . && node dist/bench/measure/postgres-layout.js
 *
 * The figures are quoted in grid/hazelcast/member/store/.../PostgresMapStore.java.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMemberStoreJar } from '../../runtime/cli/hazelcast/members.js';
import { startPostgres } from '../../runtime/cli/postgres/server.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(join(tmpdir(), 'troupe-pg-layout-'));
chmodSync(dir, 0o755);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const jar = await buildMemberStoreJar();
const pg = await startPostgres({ dir: join(dir, 'pg'), onProgress: log });
const stop = async (): Promise<void> => {
  await pg.stop(5_000);
  rmSync(dir, { recursive: true, force: true });
};
process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
try {
  const code = await new Promise<number | null>((done) => {
    const java = spawn('java', ['-cp', jar, join(root, 'bench', 'measure', 'PostgresLayout.java'), pg.jdbcUrl(), pg.user], { stdio: ['ignore', 'inherit', 'inherit'] });
    java.on('exit', (c) => done(c));
  });
  if (code !== 0) process.exitCode = 1;
} finally {
  await stop();
}
