/**
 * `troupe top`: a live view of a cluster in the terminal, from one node's
 * dashboard feed (runtime/dashboard/): per node its state, calls/s, p99,
 * backlog, outbox backlog and open breakers. Redraws in place on a
 * terminal; prints plain blocks of lines anywhere else. Ends on Ctrl-C, or
 * after --count frames, or after one with --once.
 */
import { httpBase } from './call.js';
import { parseOptions, UsageError } from './parse-options.js';
import { DashFeed, FeedError } from './top-feed.js';
import { screenFor } from './top-screen.js';
import { viewLines } from './top-view.js';

export const TOP_EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

export const TOP_USAGE = `usage: troupe top [options]

A live view of a cluster: one row per node with its state (up, suspect,
down), calls/s, errors/s, p99 latency, backlog (queued turns), outbox backlog
(tells not yet delivered) and open circuit breakers. The node at --url reads
its peers' figures itself (as its /dash page does), so only that one node
needs to be reachable. Rates are over the last 5 s; * marks the node asked.

On a terminal the view redraws in place; piped or redirected, it prints one
plain block of lines per refresh.

options:
  --url URL          the node: http://host:port (default: $TROUPE_URL, else http://127.0.0.1:7070)
  --interval S       seconds between refreshes (default 1; 0.2 to 3600)
  --count N          stop after N refreshes (default: until Ctrl-C)
  --once             print one plain snapshot and exit (for scripts)
  --token JWT        for nodes started with TROUPE_AUTH_SECRET; prefer TROUPE_TOKEN
                     (flags show in ps)
  -h, --help         this help

environment:
  TROUPE_TOKEN       a JWT signed with the nodes' TROUPE_AUTH_SECRET
  TROUPE_URL         the default for --url

exit codes: 0 done, 1 the node refused the token, 2 bad usage, 3 the node could not be reached

examples:
  troupe top
  troupe top --url http://10.0.0.11:7070 --interval 2
  troupe top --once | grep down
  troupe top --count 10 --interval 5 > cluster.log
  TROUPE_TOKEN=$(cat token.jwt) troupe top --url http://127.0.0.1:7071`;

const OPTIONS = {
  url: { type: 'string' },
  interval: { type: 'string' },
  count: { type: 'string' },
  once: { type: 'boolean' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface TopRequest {
  readonly base: string;
  readonly intervalMs: number;
  readonly count: number;
  readonly once: boolean;
  readonly token: string | null;
}

/** How long to wait for the second snapshot, the first with rates in it (the dashboard ticks once a second). */
const FIRST_RATES_MS = 3000;

function parseTop(argv: readonly string[], env: NodeJS.ProcessEnv): TopRequest | 'help' {
  const { values: v, positionals } = parseOptions(argv, OPTIONS);
  if (v.help === true) return 'help';
  if (positionals.length > 0) throw new UsageError(`troupe top takes no arguments, got '${positionals[0]}' (the node is --url)`);
  const interval = v.interval === undefined ? 1 : Number(v.interval);
  if (!Number.isFinite(interval) || interval < 0.2 || interval > 3600) throw new UsageError(`--interval must be seconds between 0.2 and 3600, got '${v.interval}'`);
  let count = Infinity;
  if (v.count !== undefined) {
    count = Number(v.count);
    if (!/^\d+$/.test(v.count) || count < 1) throw new UsageError(`--count must be a whole number of refreshes, 1 or more, got '${v.count}'`);
  }
  if (v.once === true && v.count !== undefined) throw new UsageError('give --once or --count, not both');
  const token = v.token ?? env.TROUPE_TOKEN ?? '';
  return {
    base: httpBase(v.url ?? env.TROUPE_URL ?? 'http://127.0.0.1:7070'),
    intervalMs: Math.round(interval * 1000),
    count: v.once === true ? 1 : count,
    once: v.once === true,
    token: token === '' ? null : token,
  };
}

function frame(feed: DashFeed, base: string): string[] {
  const source = new URL(base).host;
  const lines = feed.latest === null ? [`troupe top  ${source}  waiting for the first snapshot`] : viewLines(feed.latest, source);
  // First, so old figures are not read as live ones.
  if (feed.problem !== null) lines.unshift(`! ${feed.problem}; the figures below are the last ones received`);
  return lines;
}

export async function topCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let req: TopRequest | 'help';
  try {
    req = parseTop(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`troupe top: ${err.message} (see troupe top --help)\n`);
    return TOP_EXIT.usage;
  }
  if (req === 'help') {
    process.stdout.write(`${TOP_USAGE}\n`);
    return TOP_EXIT.ok;
  }
  let feed: DashFeed;
  try {
    feed = await DashFeed.open(req.base, req.token);
  } catch (err) {
    if (!(err instanceof FeedError)) throw err;
    process.stderr.write(`troupe top: ${err.message}\n`);
    return err.unauthorized ? TOP_EXIT.refused : TOP_EXIT.unreachable;
  }
  const screen = screenFor(process.stdout, req.once);
  let stop = false;
  let wake: (() => void) | null = null;
  const interrupt = (): void => {
    stop = true;
    wake?.();
    feed.close(); // also ends a wait for the first snapshots
  };
  const restoreOnExit = (): void => screen.restore();
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  process.on('exit', restoreOnExit);
  try {
    await feed.waitFor(2, FIRST_RATES_MS);
    for (let drawn = 0; !stop; ) {
      screen.draw(frame(feed, req.base));
      if (++drawn >= req.count) break;
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, req.intervalMs);
        wake = () => {
          clearTimeout(t);
          ok();
        };
      });
      wake = null;
    }
  } finally {
    screen.restore();
    feed.close();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    process.off('exit', restoreOnExit);
  }
  return TOP_EXIT.ok;
}
