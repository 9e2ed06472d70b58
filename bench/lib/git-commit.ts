import { execFileSync } from 'node:child_process';

/** The checkout's short commit, `-dirty` when it has uncommitted changes; null outside git. Names the results files. */
export function gitDescribe(root: string): string | null {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit}-dirty` : commit;
  } catch {
    return null;
  }
}
