import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Files that ship beside the TypeScript sources (the member config, the fetch
 * script) are not copied into dist/, so find them from the package root. That
 * works both from `runtime/cli/hazelcast/*.ts` (tsx) and `dist/runtime/cli/hazelcast/*.js`.
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'grid', 'hazelcast', 'member'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the Troupe package root (grid/hazelcast/member/ missing): is the package installed completely?');
}

export function memberConfigPath(): string {
  return join(packageRoot(), 'grid', 'hazelcast', 'member', 'hazelcast.xml');
}

export function fetchScriptPath(): string {
  return join(packageRoot(), 'scripts', 'fetch-hazelcast.sh');
}

export function storeBuildScriptPath(): string {
  return join(packageRoot(), 'scripts', 'build-member-store.sh');
}

export function fetchPostgresScriptPath(): string {
  return join(packageRoot(), 'scripts', 'fetch-postgres.sh');
}

/** scripts/fetch-kafka.sh: the Kafka broker's jars for tests and scripts (runtime/cli/kafka/). */
export function fetchKafkaScriptPath(): string {
  return join(packageRoot(), 'scripts', 'fetch-kafka.sh');
}
