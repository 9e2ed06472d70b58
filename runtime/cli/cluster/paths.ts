/**
 * Where the launcher finds the package's own files. The CLI runs from
 * `dist/runtime/cli/cluster/*.js`; the scripts and the bin entry are not
 * copied into dist/, so walk up to the package root.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'troupe.js'))) return (root = dir);
    dir = dirname(dir);
  }
  throw new Error('cannot find the Troupe package root (bin/troupe.js missing): is the package installed completely?');
}

export function troupeBin(): string {
  return join(packageRoot(), 'bin', 'troupe.js');
}

export function fetchConsulScript(): string {
  return join(packageRoot(), 'scripts', 'fetch-consul.sh');
}

/** The three compiled examples every local cluster serves unless `--actors` says otherwise. */
export function defaultActors(): string[] {
  const dist = join(packageRoot(), 'dist', 'examples');
  const modules = [join(dist, 'counter', 'counter.js'), join(dist, 'bank', 'account.js'), join(dist, 'chat', 'room.js')];
  const missing = modules.filter((m) => !existsSync(m));
  if (missing.length > 0) throw new Error(`example actors not built (${missing[0]}): run 'npx tsc -p .' first, or pass --actors`);
  return modules;
}
