/**
 * How the CLI shows a long command's steps, on stderr (stdout stays for what
 * a shell or a script reads). On a terminal: a spinner per step, then a check
 * mark or a cross with the step's time (ora draws it; nothing else in the CLI
 * imports ora). Anywhere else (CI, a pipe, a log file, TERM=dumb, a terminal
 * of no width, or TROUPE_PROGRESS=plain): plain lines that read well in a log,
 *
 *   [troupe] starting hazelcast member 1 of 2 ...
 *   [troupe]   127.0.0.1:5701 (pid 4242, log .troupe/hazelcast/member-5701.log)
 *   [troupe] starting hazelcast member 1 of 2 ... done (3.2 s)
 *
 * with the start line too, so a step that hangs shows which it is.
 */
import ora, { type Ora } from 'ora';
import type { Detail, RunStep } from './steps.js';

export type ProgressMode = 'spinner' | 'plain';

export interface Progress {
  readonly mode: ProgressMode;
  readonly step: RunStep;
  /** A line outside any step: what the command is about to do, or a summary. */
  note(line: string): void;
}

export interface ProgressOptions {
  /** Where progress goes; stderr unless a test says otherwise. */
  readonly stream?: NodeJS.WriteStream;
  readonly env?: NodeJS.ProcessEnv;
}

const PREFIX = '[troupe]';

function truthy(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

/**
 * A spinner only where a person watches a terminal: CI services often run
 * commands under a pseudo-terminal whose log keeps every frame, so CI=true
 * means plain lines even on a TTY.
 */
export function progressMode(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): ProgressMode {
  if (stream.isTTY !== true) return 'plain';
  if (truthy(env.CI) || env.TERM === 'dumb' || env.TROUPE_PROGRESS === 'plain') return 'plain';
  // A terminal of no width (`script` or `docker exec -t` with no size set): ora 9 counts the lines
  // to erase as text width / 0 = Infinity and spins in that loop for ever.
  if (!(stream.columns > 0)) return 'plain';
  return 'spinner';
}

function seconds(startedAt: number): string {
  return `${((performance.now() - startedAt) / 1000).toFixed(1)} s`;
}

export function createProgress(o: ProgressOptions = {}): Progress {
  const stream = o.stream ?? process.stderr;
  const env = o.env ?? process.env;
  const mode = progressMode(stream, env);
  return mode === 'spinner' ? spinnerProgress(stream, env) : plainProgress(stream);
}

function plainProgress(stream: NodeJS.WritableStream): Progress {
  const line = (text: string): void => void stream.write(`${PREFIX} ${text}\n`);
  // Nested steps (a clean-up run while a step is under way) indent under it.
  let depth = 0;
  const step: RunStep = async (title, work) => {
    const indent = '  '.repeat(depth);
    const startedAt = performance.now();
    line(`${indent}${title} ...`);
    depth++;
    try {
      const result = await work((text) => line(`${indent}  ${text}`));
      line(`${indent}${title} ... done (${seconds(startedAt)})`);
      return result;
    } catch (err) {
      line(`${indent}${title} ... failed (${seconds(startedAt)})`);
      throw err;
    } finally {
      depth--;
    }
  };
  return { mode: 'plain', step, note: line };
}

function spinnerProgress(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): Progress {
  // tty.WriteStream#hasColors honours NO_COLOR, FORCE_COLOR and TERM; ora's marks (log-symbols) do too.
  const colors = stream.hasColors?.(16, env) ?? false;
  const dim = (text: string): string => (colors ? `\x1b[2m${text}\x1b[22m` : text);
  // ora re-draws its spinner below anything written to the stream while it spins.
  const write = (text: string): void => void stream.write(`${text}\n`);
  let active: Ora | undefined;
  let depth = 0;

  const step: RunStep = async (title, work) => {
    const startedAt = performance.now();
    // One spinner at a time: a step started inside another (a clean-up after a signal) shows as its lines.
    if (active !== undefined) {
      const indent = '  '.repeat(depth);
      write(`${indent}${title} ...`);
      depth++;
      try {
        const result = await work((text) => write(dim(`${indent}  ${text}`)));
        write(`${indent}${title} ... done ${dim(`(${seconds(startedAt)})`)}`);
        return result;
      } catch (err) {
        write(`${indent}${title} ... failed ${dim(`(${seconds(startedAt)})`)}`);
        throw err;
      } finally {
        depth--;
      }
    }
    // discardStdin off: it puts stdin in raw mode, and `cluster up` handles Ctrl-C itself.
    const spinner = ora({ text: title, stream, color: colors ? 'cyan' : false, discardStdin: false, isEnabled: true });
    active = spinner;
    depth = 1;
    spinner.start();
    const detail: Detail = (text) => write(dim(`  ${text}`));
    try {
      const result = await work(detail);
      spinner.succeed(`${title} ${dim(`(${seconds(startedAt)})`)}`);
      return result;
    } catch (err) {
      spinner.fail(`${title} ${dim(`(failed after ${seconds(startedAt)})`)}`);
      throw err;
    } finally {
      active = undefined;
      depth = 0;
    }
  };
  return { mode: 'spinner', step, note: write };
}
