/**
 * Child processes started by the bench: servers that print a ready line, and
 * load processes that print one JSON result line. Every child is stopped by
 * its own PID (SIGTERM, then SIGKILL after a grace period), and any still
 * alive when the runner exits is killed, so a failed run leaves nothing behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const live = new Set<ChildProcess>();
/** Processes started elsewhere (Hazelcast members, by runtime/cli/hazelcast/members.ts) that must not outlive the runner. */
const adopted = new Set<number>();
let exitHookInstalled = false;

function killAll(): void {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
  for (const pid of adopted) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}

/**
 * Kills `pid` (SIGKILL) if the runner exits or is interrupted while it is
 * still listed; `release(pid)` once it has been stopped the normal way, so
 * a reused PID is never signalled.
 */
export function killOnExit(pid: number): void {
  installExitHook();
  adopted.add(pid);
}

export function release(pid: number): void {
  adopted.delete(pid);
}

/** Installed with the first child, not on import: a runner interrupted or killed takes its children with it. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`[bench] ${signal}: stopping ${live.size + adopted.size} child processes\n`);
      killAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

export interface StartOptions {
  /** Shown in errors and progress. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Called with each line of stdout and stderr until it returns true. */
  readonly ready: (line: string) => boolean;
  readonly timeoutMs: number;
}

export interface Started {
  readonly pid: number;
  /** The last lines of stderr and stdout, for error messages. */
  tail(): string;
  stop(): Promise<void>;
}

const TAIL_LINES = 30;

function track(child: ChildProcess, tail: string[]): void {
  const keep = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  if (child.stderr) createInterface({ input: child.stderr }).on('line', keep);
  if (child.stdout) createInterface({ input: child.stdout }).on('line', keep);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
    live.delete(child);
    return;
  }
  const gone = exited(child);
  try { process.kill(child.pid, 'SIGTERM'); } catch { /* already gone */ }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), graceMs); });
  if ((await Promise.race([gone, late])) === 'late') {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
    await gone;
  }
  clearTimeout(timer);
  live.delete(child);
}

/** Starts a long-running server process and resolves once it prints its ready line. */
export function startServer(opts: StartOptions): Promise<Started> {
  installExitHook();
  const child = spawn(opts.command, [...opts.args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const tail: string[] = [];
  track(child, tail);
  const started: Started = {
    pid: child.pid ?? -1,
    tail: () => tail.join('\n'),
    stop: () => stopChild(child, 5_000),
  };
  return new Promise<Started>((resolve, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stopChild(child, 2_000).then(() => reject(new Error(`${opts.name}: ${why}\n${tail.join('\n')}`)));
    };
    const timer = setTimeout(() => fail(`not ready after ${opts.timeoutMs} ms`), opts.timeoutMs);
    child.once('error', (err) => fail(`could not start: ${err.message}`));
    child.once('exit', (code, signal) => fail(`exited before it was ready (code ${code}, signal ${signal})`));
    // Servers log to either stream; the ready line may come on both.
    const watch = (line: string): void => {
      if (settled || !opts.ready(line)) return;
      settled = true;
      clearTimeout(timer);
      resolve(started);
    };
    createInterface({ input: child.stdout! }).on('line', watch);
    createInterface({ input: child.stderr! }).on('line', watch);
  });
}

/**
 * Runs a process to completion and returns the last stdout line that parses
 * as a JSON object. Killed by PID if it runs past timeoutMs.
 */
export function runForJson(opts: Omit<StartOptions, 'ready'>): Promise<unknown> {
  installExitHook();
  const child = spawn(opts.command, [...opts.args], {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const tail: string[] = [];
  track(child, tail);
  let result: unknown;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    try { result = JSON.parse(line); } catch { /* not ours */ }
  });
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void stopChild(child, 2_000);
    }, opts.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      live.delete(child);
      reject(new Error(`${opts.name}: could not start: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      if (timedOut) reject(new Error(`${opts.name}: killed after ${opts.timeoutMs} ms\n${tail.join('\n')}`));
      else if (result !== undefined) resolve(result);
      else reject(new Error(`${opts.name}: exited (code ${code}, signal ${signal}) without a result\n${tail.join('\n')}`));
    });
  });
}
