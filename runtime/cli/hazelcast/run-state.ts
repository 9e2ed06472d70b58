import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PostgresRecord } from '../durable.js';
import type { MemberInfo } from './member-process.js';

/**
 * What a run folder records about the members started there, so a later
 * command (`troupe hazelcast status|down`, or a test's cleanup) can find them
 * by PID. One JSON file, replaced atomically.
 */
export interface RunState {
  readonly clusterName: string;
  readonly startedAt: string;
  readonly members: readonly MemberInfo[];
  /** The PostgreSQL server `up --durable postgres` started, if any (stopped by `down`, data kept). */
  readonly postgres?: PostgresRecord | null;
  /** How the members keep data, in words (`up` prints it). */
  readonly durability?: string;
}

export const STATE_FILE = 'members.json';

export function writeRunState(dir: string, state: RunState): void {
  const file = join(dir, STATE_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** `undefined` when the folder holds no run (never started, or already brought down). */
export function readRunState(dir: string): RunState | undefined {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<RunState>;
  if (typeof parsed.clusterName !== 'string' || !Array.isArray(parsed.members)) {
    throw new Error(`${file} is not a Troupe Hazelcast run file; remove it by hand if it is stale`);
  }
  const members = (parsed.members as Partial<MemberInfo>[])
    .filter((m) => typeof m?.pid === 'number' && typeof m.port === 'number' && typeof m.address === 'string')
    .map((m): MemberInfo => ({ pid: m.pid!, port: m.port!, address: m.address!, log: String(m.log ?? ''), logStart: Number(m.logStart ?? 0) }));
  const postgres = parsed.postgres !== undefined && parsed.postgres !== null && typeof parsed.postgres.pid === 'number' ? parsed.postgres : null;
  return { clusterName: parsed.clusterName, startedAt: String(parsed.startedAt ?? ''), members, postgres, durability: String(parsed.durability ?? '') };
}

export function clearRunState(dir: string): void {
  rmSync(join(dir, STATE_FILE), { force: true });
}
