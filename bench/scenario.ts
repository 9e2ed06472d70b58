/**
 * The contract between the runner and a scenario. A scenario starts the
 * server side of one system (in its own process or processes) and names the
 * client driver that the load process should use to reach it. The load
 * itself always runs in a separate process, so a scenario hands over a
 * serialisable description of how to connect, never a function.
 */
import type { BenchConfig } from './config.js';
import type { DriverSpec } from './drivers/index.js';
import type { DurabilityMode } from '../runtime/cli/hazelcast/members.js';
import type { HazelcastCluster } from './lib/hazelcast-cluster.js';

export type ScenarioKind = 'troupe' | 'peer';

/** What the runner gives every scenario. */
export interface ScenarioContext {
  /** Absolute path of the repository root (the folder holding package.json). */
  readonly root: string;
  readonly config: BenchConfig;
  /**
   * The one WebSocket client for every wire-protocol scenario (Troupe and
   * raw uWS alike), so their rows differ only on the server side: the SDK
   * when it is built, else the bench's own ws-batch client (see BENCH_CLIENT).
   */
  readonly wsClient: 'troupe-sdk' | 'ws-batch';
  /** Progress line to stderr, prefixed with the scenario name. */
  readonly progress: (line: string) => void;
  /**
   * The run's Hazelcast members, started on the first call and shared by
   * every row that asks (BENCH_HAZELCAST_MEMBERS of them); the runner stops
   * them at the end. Take a fresh map per row: `freshMapName`. With a
   * durability mode: members of their own with PostgreSQL behind them
   * (one set per mode, shared by the rows asking for that mode).
   */
  readonly hazelcast: (store?: DurabilityMode) => Promise<HazelcastCluster>;
}

/** A started system: how the load process connects, and how to stop it. */
export interface Target {
  readonly driver: DriverSpec;
  /** The server processes, whose CPU use is reported beside the figures. */
  readonly pids: readonly number[];
  /** Shown in the table: what the rows mean beyond the scenario name. */
  readonly note?: string;
  /** Counter keys to call instead of k0..k(N-1), e.g. only actors owned by one node. */
  readonly keyNames?: readonly string[];
  stop(): Promise<void>;
}

/** The system could not run here (a missing build, say); the table shows why. */
export interface Skipped {
  readonly skipped: string;
}

export interface Scenario {
  /** Short, stable name used in the table, in BENCH_ONLY and in the JSON. */
  readonly name: string;
  /** Troupe rows are divided by peer rows in the ratio table. */
  readonly kind: ScenarioKind;
  /** One line for the table legend. */
  readonly description: string;
  /**
   * Rows are divided only by rows of the same group: Troupe on Hazelcast by
   * the Hazelcast peers, the in-memory Troupe row by the in-memory peers.
   * Default 'in-memory'.
   */
  readonly group?: string;
  /**
   * For a Troupe row: the calls/s ratio it should reach over some peers of its
   * group, by peer name (`{ 'moleculer-hazelcast': 2 }`); the ratio table
   * marks each as met or below. Throughput targets: judged only at the levels
   * with more than one call in flight (at 1 in flight calls/s is one over the
   * latency, and the issues set latency targets there).
   */
  readonly targets?: Readonly<Record<string, number>>;
  /** BENCH_ONLY=<family> selects every scenario of a family (the rows of a sweep). */
  readonly family?: string;
  /**
   * Another Troupe row this one is also divided by (same in-flight level),
   * e.g. a durable mode by the same grid without a store; `targets` may name it.
   */
  readonly baseline?: string;
  start(ctx: ScenarioContext): Promise<Target | Skipped>;
}

export const DEFAULT_GROUP = 'in-memory';

export function isSkipped(v: Target | Skipped): v is Skipped {
  return typeof (v as Skipped).skipped === 'string';
}
