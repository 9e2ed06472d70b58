/**
 * `troupe dev`: a node that restarts when its actor files change. The node
 * runs as a child process (`troupe start` with the same flags), because a
 * module once imported stays cached in a process: only a fresh process
 * loads the edited code, its imports included.
 *
 * Bounded: changes are gathered for `--debounce` ms into one restart; the
 * old node gets SIGTERM (it drains) and SIGKILL after `--grace` ms; the
 * next node starts only once the old one has exited (so the port is free).
 * A node that fails to start (a syntax error in an actor) is reported, and
 * the next change tries again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, knownFlags, settingsFromFlags } from '../config.js';
import { didYouMean } from '../did-you-mean.js';
import { UsageError } from './parse-options.js';

export const DEV_USAGE = `usage: troupe dev [dev options] [troupe start options]

Runs a node like 'troupe start' and restarts it whenever a file changes in the
folders of its --actors modules (or the --watch paths): edit, save, call.

dev options:
  --watch PATHS      comma-separated files or folders to watch (default: the folders of --actors)
  --debounce MS      changes within this window make one restart (default 200)
  --grace MS         how long the old node may drain before SIGKILL (default 3000)
  -h, --help         this help

Every 'troupe start' option works too (see troupe start --help); --log-level
defaults to warn here.

examples:
  troupe dev --actors my-app/greeter.ts
  troupe dev --actors dist/app/actors.js --watch dist/app --port 7071
  npx tsc -w & troupe dev --actors dist/app/actors.js`;

const DEV_FLAGS = ['--watch', '--debounce', '--grace'] as const;
const BIN = fileURLToPath(new URL('../../../bin/troupe.js', import.meta.url));
const WATCHED_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.json']);

export interface DevOptions {
  readonly watch: readonly string[];
  readonly debounceMs: number;
  readonly graceMs: number;
  readonly startFlags: readonly string[];
}

function ms(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) > 600_000) throw new UsageError(`${flag} must be milliseconds between 0 and 600000, got '${text}'`);
  return Number(text);
}

/** Splits dev's own options from the `troupe start` flags, which are checked here too, so a typo fails before anything starts. */
export function parseDev(argv: readonly string[], env: NodeJS.ProcessEnv): DevOptions | 'help' {
  const own = new Map<string, string>();
  const startFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if ((DEV_FLAGS as readonly string[]).includes(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
      own.set(flag, value);
    } else {
      if (flag.startsWith('--') && !knownFlags().includes(flag)) throw new UsageError(`unknown option ${flag}${didYouMean(flag, [...DEV_FLAGS, ...knownFlags()])} (see troupe dev --help)`);
      startFlags.push(arg);
    }
  }
  let settings;
  try {
    settings = settingsFromFlags(startFlags);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message.replace('(see troupe start --help)', '(see troupe dev --help)'));
    throw err;
  }
  const actors = settings.actors ?? (env.TROUPE_ACTORS ?? '').split(',').filter((s) => s.trim() !== '');
  if (actors.length === 0) throw new UsageError('troupe dev needs actor modules: --actors path/to/actors.js');
  const watchList = own.has('--watch') ? own.get('--watch')!.split(',').filter((s) => s !== '') : [...new Set(actors.map((a) => dirname(resolve(a))))];
  if (settings.logLevel === undefined && (env.TROUPE_LOG_LEVEL ?? '') === '') startFlags.push('--log-level', 'warn');
  return {
    watch: watchList.map((p) => resolve(p)),
    debounceMs: ms(own.get('--debounce'), '--debounce', 200),
    graceMs: ms(own.get('--grace'), '--grace', 3000),
    startFlags,
  };
}

/** Runs until SIGINT or SIGTERM; resolves with the exit code. */
export async function devCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let o: DevOptions | 'help';
  try {
    o = parseDev(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`troupe dev: ${err.message}\n`);
    return 2;
  }
  if (o === 'help') {
    process.stdout.write(`${DEV_USAGE}\n`);
    return 0;
  }
  return new DevLoop(o).run();
}

const say = (line: string): void => void process.stderr.write(`troupe dev: ${line}\n`);

class DevLoop {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private restarting = false;
  private again = false;
  private closing = false;
  private readonly watchers: FSWatcher[] = [];
  private changed = new Set<string>();

  constructor(private readonly o: DevOptions) {}

  run(): Promise<number> {
    for (const path of this.o.watch) {
      try {
        // Recursive: actor modules import their siblings' folders too.
        const w = watch(path, { recursive: true }, (_event, name) => this.onChange(name === null ? path : resolve(path, name.toString())));
        w.on('error', (err) => say(`watching ${path} failed: ${err.message}`));
        this.watchers.push(w);
      } catch (err) {
        say(`cannot watch ${path}: ${(err as Error).message}`);
      }
    }
    say(`watching ${this.o.watch.join(', ')} (Ctrl-C to stop)`);
    this.startChild();
    return new Promise((done) => {
      const stop = (): void => {
        if (this.closing) return;
        this.closing = true;
        if (this.timer !== null) clearTimeout(this.timer);
        for (const w of this.watchers) w.close();
        void this.stopChild().then(() => done(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  }

  private onChange(file: string): void {
    if (this.closing || !WATCHED_EXTENSIONS.has(extname(file)) || /[/\\](node_modules|\.git)[/\\]/.test(file)) return;
    this.changed.add(file);
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.restart(), this.o.debounceMs);
  }

  private async restart(): Promise<void> {
    this.timer = null;
    if (this.restarting) {
      // A change while the node restarts: one more restart once this one is done, not one per change.
      this.again = true;
      return;
    }
    this.restarting = true;
    const files = [...this.changed];
    this.changed.clear();
    say(`${files.length === 1 ? files[0] : `${files.length} files`} changed; restarting the node`);
    await this.stopChild();
    if (!this.closing) this.startChild();
    this.restarting = false;
    if (this.again) {
      this.again = false;
      void this.restart();
    }
  }

  private startChild(): void {
    const child = spawn(process.execPath, [BIN, 'start', ...this.o.startFlags], { stdio: 'inherit' });
    this.child = child;
    this.exited = new Promise((done) => {
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        if (!this.closing && !this.restarting) say(`the node exited (${signal ?? `code ${code}`}); it starts again on the next change`);
        done();
      });
    });
  }

  /** SIGTERM (the node drains), SIGKILL after the grace; resolves once it has exited. */
  private async stopChild(): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const kill = setTimeout(() => {
      say(`the node did not stop within ${this.o.graceMs} ms; killing it`);
      child.kill('SIGKILL');
    }, this.o.graceMs);
    await this.exited;
    clearTimeout(kill);
  }
}
