/**
 * Where a bench run keeps its figures: `bench/results/<day>-<commit><suffix>.json`,
 * committed with the README table they produced, so a quoted figure can be
 * traced to the file and the commit that made it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `text` to the results file of a run that started `at` on `commit` (gitDescribe); returns its path. */
export function keepResults(root: string, at: Date, commit: string | null, suffix: string, text: string): string {
  const dir = join(root, 'bench', 'results');
  const file = join(dir, `${at.toISOString().slice(0, 10)}-${commit ?? 'unknown'}${suffix}.json`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, text);
  return file;
}
