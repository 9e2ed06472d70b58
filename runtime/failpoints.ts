/**
 * Failpoints (as etcd's gofail and TiKV's fail-rs have them): named points in
 * the runtime where a test can make the process crash, or a thread stop,
 * exactly there, to prove that a crash at the worst moment loses nothing and
 * doubles nothing.
 *
 * Armed through one environment variable, read once at start:
 *
 *   TROUPE_FAILPOINTS='after-commit=kill@20,mid-batch=exit-thread%0.01'
 *
 * `name=action`, optionally `@N` (on the N-th hit only) or `%P` (on each hit
 * with probability P). Actions:
 *   kill          SIGKILL this process (from any thread), like a machine dying
 *   exit-thread   end the current thread (in a worker: that worker dies)
 *   throw         throw a FailpointError
 *   pause:MS      block the current thread for MS milliseconds
 *
 * Off in production: with the variable unset, `failpoint` is a function that
 * returns at once, and call sites check `FAILPOINTS_ON` first.
 */
import { isMainThread } from 'node:worker_threads';

/** Every point the runtime has, so a typo in a test's variable is an error, not a silent pass. */
export const FAILPOINT_NAMES = [
  /** Main thread: a group's results are back, its record is about to be written. */
  'before-commit',
  /** Main thread: the record is committed; replies, tells and events have not left. */
  'after-commit',
  /** Main thread: a target acknowledged a tell; its removal from the outbox is not committed. */
  'after-delivery',
  /** Worker: a turn of a group has run and more turns of the group follow. */
  'mid-batch',
  /** Main thread, at start: loading the uWebSockets.js binary (`throw` acts as a machine with no working build). */
  'load-uws',
] as const;

export type FailpointName = (typeof FAILPOINT_NAMES)[number];

export class FailpointError extends Error {
  override name = 'FailpointError';
}

interface Armed {
  readonly action: 'kill' | 'exit-thread' | 'throw' | 'pause';
  readonly pauseMs: number;
  readonly nth: number;
  readonly probability: number;
  hits: number;
}

function parse(spec: string | undefined): Map<string, Armed> {
  const out = new Map<string, Armed>();
  if (spec === undefined || spec.trim() === '') return out;
  for (const part of spec.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^([a-z-]+)=(kill|exit-thread|throw|pause:(\d+))(?:@(\d+)|%([0-9.]+))?$/.exec(part);
    if (m === null) throw new Error(`TROUPE_FAILPOINTS: '${part}' is not name=kill|exit-thread|throw|pause:MS[@N|%P]`);
    const name = m[1]!;
    if (!(FAILPOINT_NAMES as readonly string[]).includes(name)) throw new Error(`TROUPE_FAILPOINTS: no failpoint '${name}' (known: ${FAILPOINT_NAMES.join(', ')})`);
    const action = (m[2]!.startsWith('pause') ? 'pause' : m[2]) as Armed['action'];
    out.set(name, { action, pauseMs: Number(m[3] ?? 0), nth: Number(m[4] ?? 0), probability: m[5] === undefined ? 1 : Number(m[5]), hits: 0 });
  }
  return out;
}

const armed = parse(process.env.TROUPE_FAILPOINTS);

/** Whether any failpoint is armed in this process; call sites test it before calling `failpoint`. */
export const FAILPOINTS_ON = armed.size > 0;

/** Passes through the named point: does what the test armed there, if anything. */
export function failpoint(name: FailpointName): void {
  const a = armed.get(name);
  if (a === undefined) return;
  a.hits++;
  if (a.nth > 0 ? a.hits !== a.nth : Math.random() >= a.probability) return;
  process.stderr.write(`${JSON.stringify({ level: 'warn', event: 'failpoint', name, action: a.action, hit: a.hits, mainThread: isMainThread })}\n`);
  switch (a.action) {
    case 'kill':
      process.kill(process.pid, 'SIGKILL');
      return;
    case 'exit-thread':
      process.exit(70);
    case 'throw':
      throw new FailpointError(`failpoint ${name}`);
    case 'pause':
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, a.pauseMs);
      return;
  }
}
