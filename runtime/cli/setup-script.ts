/**
 * Runs one of the scripts that fetch or build what the CLI needs the first
 * time (scripts/fetch-hazelcast.sh, fetch-consul.sh, build-member-store.sh):
 * each prints the path it made on its last stdout line, and its progress on
 * stderr, which is passed on line by line so a long first download is seen.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Detail } from './steps.js';

/** A setup script failed or printed no usable path; `message` ends with the script's last lines. */
export class SetupScriptError extends Error {
  readonly code = 'TROUPE_SETUP_FAILED';
}

export interface SetupScript {
  readonly path: string;
  /** What the script gets, for the error message: 'fetching the Hazelcast jar'. */
  readonly what: string;
  readonly timeoutMs: number;
  /** Lines of its stderr quoted in the error (a Maven failure needs more than a download). */
  readonly tailLines?: number;
}

export function runSetupScript(s: SetupScript, detail: Detail = () => {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('bash', [s.path], { timeout: s.timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new SetupScriptError(`${s.what} failed: ${stderr.trim().split('\n').slice(-(s.tailLines ?? 3)).join(' | ') || err.message}`));
        return;
      }
      const path = stdout.trim().split('\n').pop() ?? '';
      if (!existsSync(path)) reject(new SetupScriptError(`${basename(s.path)} printed '${path}', which does not exist`));
      else resolve(path);
    });
    // Split on whole lines: a chunk can end in the middle of one.
    let partial = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') detail(line.trim());
    });
    child.stderr?.on('end', () => {
      if (partial.trim() !== '') detail(partial.trim());
    });
  });
}
