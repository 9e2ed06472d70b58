/**
 * Processes the launcher started, found again by PID from the state file.
 * PIDs are reused, so before signalling one we check that its command line is
 * still the one we started (on Linux, /proc/PID/cmdline); a state file left
 * over from a reboot must not make us kill a stranger.
 */
import { readFileSync } from 'node:fs';
import { isAlive, sleep, waitForExit } from '../hazelcast/member-process.js';

export { isAlive, sleep, waitForExit };

export type StopOutcome = 'exited' | 'killed' | 'gone';

function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is alive and its argv contains every one of `marks`, each a
 * run of consecutive arguments (`['--node-id', 'node-1']`). Where /proc is
 * missing (macOS) only the PID can be trusted.
 */
export function isOurProcess(pid: number, marks: readonly (readonly string[])[]): boolean {
  if (!isAlive(pid)) return false;
  const argv = commandLine(pid);
  if (argv === undefined) return process.platform !== 'linux';
  return marks.every((run) => argv.some((_, i) => run.every((arg, j) => argv[i + j] === arg)));
}

/** Sends a signal; a process that is already gone is not an error. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** SIGTERM, then SIGKILL when it is still there after `graceMs`. */
export async function terminate(pid: number, graceMs: number): Promise<StopOutcome> {
  if (!isAlive(pid)) return 'gone';
  signal(pid, 'SIGTERM');
  if (await waitForExit(pid, graceMs)) return 'exited';
  signal(pid, 'SIGKILL');
  await waitForExit(pid, 5_000);
  return 'killed';
}

/** The last lines of a log file from `offset` on (this process's part of an appended log). */
export function logTail(file: string, offset = 0, lines = 12): string {
  try {
    const text = readFileSync(file).subarray(offset).toString('utf8').trimEnd();
    return text === '' ? '(log is empty)' : text.split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}
