/**
 * The run folder's record of a local cluster: what was started, with which
 * PIDs, ports and arguments, so later commands (status, kill, start, add,
 * down) and test clean-up can find every process again. One JSON file,
 * replaced atomically, written after every process launched (a crashed `up`
 * still leaves enough for `down`). It never holds the cluster secret.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { PostgresRecord } from '../durable.js';
import type { MemberInfo } from '../hazelcast/members.js';
import type { ClusterStream, KafkaRecord } from './kafka-broker.js';
import { isAlive } from './processes.js';

export const STATE_FILE = 'cluster.json';
const LOCK_FILE = '.lock';

export interface ConsulRecord {
  readonly pid: number;
  /** Consul node name; its `serfHealth` check is the readiness signal. */
  readonly name: string;
  readonly httpPort: number;
  readonly url: string;
  readonly binary: string;
  readonly log: string;
}

export interface HazelcastRecord {
  readonly clusterName: string;
  /** Sub-folder with the members' logs (and `troupe hazelcast`'s own members.json). */
  readonly dir: string;
  readonly members: readonly MemberInfo[];
}

export interface NodeRecord {
  readonly id: string;
  readonly pid: number;
  readonly port: number;
  readonly linkPort: number;
  readonly zone: string;
  /** argv after `bin/troupe.js`, replayed as is by `troupe cluster start <id>`. */
  readonly args: readonly string[];
  readonly log: string;
  /** Byte offset where this process's output begins in the appended log. */
  readonly logStart: number;
  readonly startedAt: string;
}

export interface ClusterState {
  readonly version: 1;
  readonly name: string;
  readonly dir: string;
  readonly basePort: number;
  readonly startedAt: string;
  readonly secretFile: string;
  readonly actors: readonly string[];
  /** Extra `troupe start` flags given after `--`, applied to every node. */
  readonly nodeFlags: readonly string[];
  readonly zones: readonly string[];
  readonly consul: ConsulRecord | null;
  readonly hazelcast: HazelcastRecord | null;
  /** The PostgreSQL server `up --durable postgres` started (null: none, or an existing one via --durable-url). */
  readonly postgres?: PostgresRecord | null;
  /** How the members keep data, in words. */
  readonly durability?: string;
  /** The Kafka broker `up --kafka` started, or none. */
  readonly kafka?: KafkaRecord | null;
  /** Topics the nodes consume (`up --kafka-stream`); their `--stream` flags are in nodeFlags. */
  readonly streams?: readonly ClusterStream[];
  readonly nodes: readonly NodeRecord[];
}

export function writeState(dir: string, state: ClusterState): void {
  const file = join(dir, STATE_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** `undefined` when the folder holds no cluster (never started, or brought down). */
export function readState(dir: string): ClusterState | undefined {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  let parsed: Partial<ClusterState>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<ClusterState>;
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); remove it by hand once no process it lists is running`);
  }
  if (parsed.version !== 1 || typeof parsed.name !== 'string' || !Array.isArray(parsed.nodes)) {
    throw new Error(`${file} is not a Troupe cluster state file (version 1); remove it by hand once no process it lists is running`);
  }
  return parsed as ClusterState;
}

export function clearState(dir: string): void {
  rmSync(join(dir, STATE_FILE), { force: true });
}

/**
 * Holds the run folder for one changing command (up, kill, start, add,
 * down) so two of them cannot overwrite each other's state. A lock whose
 * holder died is taken over. Returns the release function.
 */
export function lockRunFolder(dir: string): () => void {
  // Nothing to protect in a folder that does not exist (`down` of a cluster never started).
  if (!existsSync(dir)) return () => {};
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new Error(`another 'troupe cluster' command (pid ${holder}) is changing ${dir}; wait for it to finish`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot lock ${dir}: ${file} keeps reappearing`);
}
