/**
 * `troupe cluster` arguments, checked where they enter: a bad value stops
 * the command with one line naming the option (exit code 2).
 */
import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseFlags } from '../../config.js';
import { didYouMean } from '../../did-you-mean.js';
import { explainParseError } from '../parse-options.js';
import { DURABLE_OPTIONS, DURABLE_USAGE, DurableUsageError, type DurableChoice, parseDurable } from '../durable.js';
import { MANAGED_FLAGS } from './node-process.js';
import { checkBasePort, MAX_MEMBERS, NODES_IN_BLOCK } from './ports.js';
import type { ClusterStream } from './kafka-broker.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const DEFAULT_DIR = '.troupe/cluster';

export const USAGE = `usage: troupe cluster <command> [options]

A local cluster on 127.0.0.1: one Consul dev agent, Hazelcast members and
Troupe nodes (--discovery consul --grid hazelcast), started in the background.

  up       start everything; prints the endpoints
             --nodes N               Troupe nodes (default 3, at most ${NODES_IN_BLOCK})
             --hazelcast-members M   Hazelcast members (default 2, at most ${MAX_MEMBERS})
             --hazelcast-heap MB     heap per member (default 256)
             --base-port P           first of 100 ports the cluster uses (default: a free block in 20000-32699)
             --actors a.js,b.js      actor modules (default: the three examples in dist/examples)
             --zones a,b             zone labels given to the nodes in turn (default: none)
             --ready-timeout MS      per process (default 60000)
${DURABLE_USAGE.replace(/^/gm, '           ')}
             --kafka                 also start a Kafka broker (KRaft, jars fetched once and cached)
             --kafka-stream TOPIC:Type.method
                                     every node consumes TOPIC into Type(key).method(value); implies --kafka
             --kafka-partitions N    partitions of that topic when it is created (default 12)
             -- FLAGS                more 'troupe start' flags for every node, e.g. -- --threads 1
  status   is each process alive, each node ready, each node passing in Consul?
             --json                  machine-readable
  kill ID  stop node ID abruptly, like a crash
             --signal KILL|TERM      KILL (default) or TERM (drain and exit)
  start ID start a stopped or killed node again, with the same ports and flags
  add      start one more node (next id and ports)
             --zone Z                its zone label
             -- FLAGS                more 'troupe start' flags for this node
  autoscale  add nodes while the stream's consumer lag grows, drain them when it falls
             --max-nodes N           never more nodes than this (required)
             --lag-target L          records of lag one node may carry (required)
             --min-nodes M           never fewer (default: the nodes running when it starts)
             --interval MS           how often lag is read from the broker (default 2000)
             --cooldown MS           wait after adding or draining a node (default 10000)
             --horizon S             add a node when lag would not be back under the target within S s (default 30)
             --duration S            stop after S seconds (default 600)
             --until-idle            stop once lag is 0 and the cluster is back at --min-nodes
             --json                  one JSON object per sample instead of a line of text
  down     SIGTERM the nodes (drain), SIGKILL any still there after --grace MS
           (default 20000), then stop the members and the agent; logs stay

  common   --dir DIR   run folder: state, secret (mode 0600), logs (default ${DEFAULT_DIR})

examples:
  troupe cluster up --nodes 3 --hazelcast-members 2
  troupe cluster up --actors dist/app/actors.js -- --threads 1
  troupe cluster up --nodes 1 --kafka-stream payments:Account.deposit
  troupe cluster autoscale --max-nodes 4 --lag-target 5000
  troupe cluster status --json
  troupe cluster kill node-2 && troupe cluster start node-2
  troupe cluster down`;

export interface UpOptions {
  readonly nodes: number;
  readonly members: number;
  readonly heapMb: number;
  readonly basePort: number | undefined;
  readonly actors: readonly string[] | undefined;
  readonly zones: readonly string[];
  readonly readyTimeoutMs: number;
  readonly nodeFlags: readonly string[];
  /** PostgreSQL behind the members, or none. */
  readonly durable: DurableChoice;
  /** Start a Kafka broker. */
  readonly kafka: boolean;
  /** The topic every node consumes, when `--kafka-stream` was given. */
  readonly stream: ClusterStream | undefined;
}

export interface AutoscaleOptions {
  readonly maxNodes: number;
  readonly lagTarget: number;
  /** undefined: the number of nodes running when the loop starts. */
  readonly minNodes: number | undefined;
  readonly intervalMs: number;
  readonly cooldownMs: number;
  readonly horizonS: number;
  readonly durationS: number;
  readonly untilIdle: boolean;
  readonly json: boolean;
  readonly readyTimeoutMs: number;
}

export type Command =
  | { readonly name: 'help' }
  | { readonly name: 'up'; readonly dir: string; readonly options: UpOptions }
  | { readonly name: 'status'; readonly dir: string; readonly json: boolean }
  | { readonly name: 'kill'; readonly dir: string; readonly id: string; readonly signal: 'SIGKILL' | 'SIGTERM' }
  | { readonly name: 'start'; readonly dir: string; readonly id: string; readonly readyTimeoutMs: number }
  | { readonly name: 'add'; readonly dir: string; readonly zone: string; readonly readyTimeoutMs: number; readonly nodeFlags: readonly string[] }
  | { readonly name: 'autoscale'; readonly dir: string; readonly options: AutoscaleOptions }
  | { readonly name: 'down'; readonly dir: string; readonly graceMs: number };

function int(text: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be an integer between ${min} and ${max}, got '${text}'`);
  return n;
}

function list(text: string | undefined): string[] {
  return text === undefined ? [] : text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Flags after `--`: must be valid `troupe start` flags, and not ones the launcher sets. */
function nodeFlags(argv: readonly string[]): string[] {
  try {
    parseFlags(argv);
  } catch (err) {
    throw new UsageError(`after --: ${(err as Error).message}`);
  }
  const managed = argv.find((a) => (MANAGED_FLAGS as readonly string[]).includes(a.split('=')[0]!));
  if (managed !== undefined) throw new UsageError(`after --: ${managed.split('=')[0]} is set by 'troupe cluster' itself`);
  return [...argv];
}

function durableChoice(v: Parameters<typeof parseDurable>[0]): DurableChoice {
  try {
    return parseDurable(v);
  } catch (err) {
    if (err instanceof DurableUsageError) throw new UsageError(err.message);
    throw err;
  }
}

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const TARGET = /^[A-Za-z_$][\w$]*\.[A-Za-z_$][\w$]*$/;

/** `TOPIC:Type.method`; the brokers are the cluster's own, filled in by `up`. */
function clusterStream(text: string, partitions: number): ClusterStream {
  const at = text.indexOf(':');
  const topic = at < 0 ? '' : text.slice(0, at);
  const target = at < 0 ? '' : text.slice(at + 1);
  if (!TOPIC.test(topic) || !TARGET.test(target)) throw new UsageError(`--kafka-stream must be TOPIC:Type.method (e.g. payments:Account.deposit), got '${text}'`);
  return Object.freeze({ topic, target, partitions });
}

function oneId(positionals: readonly string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`troupe cluster ${command} needs one node id, e.g. 'troupe cluster ${command} node-2'`);
  return positionals[0]!;
}

const OPTIONS = {
  nodes: { type: 'string' },
  'hazelcast-members': { type: 'string' },
  'hazelcast-heap': { type: 'string' },
  'base-port': { type: 'string' },
  actors: { type: 'string' },
  zones: { type: 'string' },
  zone: { type: 'string' },
  'ready-timeout': { type: 'string' },
  signal: { type: 'string' },
  grace: { type: 'string' },
  kafka: { type: 'boolean' },
  'kafka-stream': { type: 'string' },
  'kafka-partitions': { type: 'string' },
  'max-nodes': { type: 'string' },
  'min-nodes': { type: 'string' },
  'lag-target': { type: 'string' },
  interval: { type: 'string' },
  cooldown: { type: 'string' },
  horizon: { type: 'string' },
  duration: { type: 'string' },
  'until-idle': { type: 'boolean' },
  dir: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...DURABLE_OPTIONS,
} as const;

/** Options a command accepts besides --dir and --help. */
const ALLOWED: Record<string, readonly string[]> = {
  up: ['nodes', 'hazelcast-members', 'hazelcast-heap', 'base-port', 'actors', 'zones', 'ready-timeout', 'kafka', 'kafka-stream', 'kafka-partitions', ...Object.keys(DURABLE_OPTIONS)],
  autoscale: ['max-nodes', 'min-nodes', 'lag-target', 'interval', 'cooldown', 'horizon', 'duration', 'until-idle', 'json', 'ready-timeout'],
  status: ['json'],
  kill: ['signal'],
  start: ['ready-timeout'],
  add: ['zone', 'ready-timeout'],
  down: ['grace'],
};

export function parseCommand(argv: readonly string[]): Command {
  const split = argv.indexOf('--');
  const own = split < 0 ? [...argv] : argv.slice(0, split);
  const passThrough = split < 0 ? [] : argv.slice(split + 1);
  let parsed;
  try {
    parsed = parseArgs({ args: own, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (err) {
    throw new UsageError(explainParseError(err, OPTIONS));
  }
  const { values: v, positionals } = parsed;
  const [name, ...rest] = positionals;
  if (v.help === true || name === undefined || name === 'help') return { name: 'help' };
  const allowed = Object.hasOwn(ALLOWED, name) ? ALLOWED[name] : undefined;
  if (allowed === undefined) throw new UsageError(`unknown command '${name}'${didYouMean(name, Object.keys(ALLOWED))}`);
  const stray = Object.keys(v).find((k) => k !== 'dir' && !allowed.includes(k));
  if (stray !== undefined) throw new UsageError(`troupe cluster ${name} does not take --${stray}${didYouMean(`--${stray}`, allowed.map((a) => `--${a}`))}`);
  if (passThrough.length > 0 && name !== 'up' && name !== 'add') throw new UsageError(`troupe cluster ${name} takes no flags after --`);
  if (name !== 'kill' && name !== 'start' && rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
  const dir = resolve(v.dir ?? DEFAULT_DIR);
  const readyTimeoutMs = int(v['ready-timeout'], '--ready-timeout', 60_000, 1_000, 3_600_000);

  switch (name) {
    case 'up': {
      if (v['kafka-partitions'] !== undefined && v['kafka-stream'] === undefined) throw new UsageError('--kafka-partitions is the partition count of the --kafka-stream topic: give --kafka-stream too');
      const actors = list(v.actors).map((a) => (isAbsolute(a) ? a : resolve(a)));
      const basePort = v['base-port'] === undefined ? undefined : int(v['base-port'], '--base-port', 0, 1024, 65_535);
      if (basePort !== undefined) {
        try {
          checkBasePort(basePort);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
      }
      return {
        name,
        dir,
        options: Object.freeze({
          nodes: int(v.nodes, '--nodes', 3, 1, NODES_IN_BLOCK),
          members: int(v['hazelcast-members'], '--hazelcast-members', 2, 1, MAX_MEMBERS),
          heapMb: int(v['hazelcast-heap'], '--hazelcast-heap', 256, 64, 65_536),
          basePort,
          actors: actors.length === 0 ? undefined : Object.freeze(actors),
          zones: Object.freeze(list(v.zones)),
          readyTimeoutMs,
          nodeFlags: Object.freeze(nodeFlags(passThrough)),
          durable: durableChoice(v),
          kafka: v.kafka === true || v['kafka-stream'] !== undefined,
          stream: v['kafka-stream'] === undefined ? undefined : clusterStream(v['kafka-stream'], int(v['kafka-partitions'], '--kafka-partitions', 12, 1, 10_000)),
        }),
      };
    }
    case 'autoscale': {
      const need = (flag: 'max-nodes' | 'lag-target'): string => v[flag] ?? (() => { throw new UsageError(`troupe cluster autoscale needs --${flag}`); })();
      const maxNodes = int(need('max-nodes'), '--max-nodes', 0, 1, NODES_IN_BLOCK);
      const minNodes = v['min-nodes'] === undefined ? undefined : int(v['min-nodes'], '--min-nodes', 0, 1, maxNodes);
      return {
        name,
        dir,
        options: Object.freeze({
          maxNodes,
          lagTarget: int(need('lag-target'), '--lag-target', 0, 1, 1_000_000_000),
          minNodes,
          intervalMs: int(v.interval, '--interval', 2_000, 100, 60_000),
          cooldownMs: int(v.cooldown, '--cooldown', 10_000, 0, 600_000),
          horizonS: int(v.horizon, '--horizon', 30, 1, 3_600),
          durationS: int(v.duration, '--duration', 600, 1, 86_400),
          untilIdle: v['until-idle'] === true,
          json: v.json === true,
          readyTimeoutMs,
        }),
      };
    }
    case 'status':
      return { name, dir, json: v.json === true };
    case 'kill': {
      const sig = (v.signal ?? 'KILL').toUpperCase().replace(/^SIG/, '');
      if (sig !== 'KILL' && sig !== 'TERM') throw new UsageError(`--signal must be KILL or TERM, got '${v.signal}'`);
      return { name, dir, id: oneId(rest, name), signal: sig === 'KILL' ? 'SIGKILL' : 'SIGTERM' };
    }
    case 'start':
      return { name, dir, id: oneId(rest, name), readyTimeoutMs };
    case 'add':
      return { name, dir, zone: v.zone ?? '', readyTimeoutMs, nodeFlags: nodeFlags(passThrough) };
    case 'down':
      return { name, dir, graceMs: int(v.grace, '--grace', 20_000, 0, 600_000) };
    default:
      throw new UsageError(`unknown command '${name}'`);
  }
}
