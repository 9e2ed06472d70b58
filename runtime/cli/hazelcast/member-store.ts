/**
 * What a member needs for the durable tier: the Java module's jar
 * (grid/hazelcast/member/store, built and cached by
 * scripts/build-member-store.sh), where PostgreSQL is, the mode, and the
 * split-brain quorum. Turned into the system properties and environment that
 * grid/hazelcast/member/hazelcast.xml reads.
 */
import { existsSync } from 'node:fs';
import { storeBuildScriptPath } from './paths.js';
import { runSetupScript } from '../setup-script.js';
import type { Detail } from '../steps.js';

export type DurabilityMode = 'write-through' | 'write-behind';
export const DURABILITY_MODES: readonly DurabilityMode[] = ['write-through', 'write-behind'];

/** PostgreSQL behind the members' Troupe maps. */
export interface MemberStore {
  /** `jdbc:postgresql://host:port/db`. */
  readonly jdbcUrl: string;
  readonly user: string;
  /** Goes to the member's environment (TROUPE_STORE_PASSWORD), never its command line. */
  readonly password?: string;
  readonly mode: DurabilityMode;
  /** Write-behind: seconds between a change and its batched store (Hazelcast's minimum is 1). */
  readonly writeDelaySeconds?: number;
  /** Connections per member. */
  readonly poolSize?: number;
  /** Which maps are stored (comma list, `*` wildcards); default STORED_MAPS. */
  readonly maps?: string;
}

/**
 * Stored by default: actor records, their existence markers, the saga
 * journal and the reminder/outbox wake indexes. The names are the engine's
 * (grid/hazelcast/names.ts, actors/saga.ts SAGA_JOURNAL behind `troupe.map.`).
 */
export const STORED_MAPS = 'troupe.actor.*,troupe.exists.*,troupe.cmap.troupe.sagas,troupe.wake';
/** Stored maps the runtime lists by key (small indexes): their keys are read at first use after a restart. */
export const PRELOADED_MAPS = 'troupe.cmap.troupe.sagas,troupe.wake';
export const DEFAULT_WRITE_DELAY_SECONDS = 1;

/**
 * Split-brain quorum for `members` configured members: a strict majority,
 * floor(N/2)+1, for three or more. For one or two it is off (0): with two, a
 * survivor cannot tell its peer's crash from a cut cable, and a majority of
 * two is both, so protection would stop every write whenever one member dies.
 */
export function quorumFor(members: number): number {
  return members >= 3 ? Math.floor(members / 2) + 1 : 0;
}

/** The -D flags the member config reads for the store and the quorum. */
export function storeProperties(store: MemberStore | undefined, quorum: number): string[] {
  const flags = [
    `-Dtroupe.quorum.enabled=${quorum >= 2}`,
    // Hazelcast refuses a minimum below 2 even when protection is off.
    `-Dtroupe.quorum=${Math.max(2, quorum)}`,
    `-Dtroupe.store.enabled=${store !== undefined}`,
    `-Dtroupe.store.write-delay-seconds=${store === undefined ? 0 : writeDelayOf(store)}`,
    `-Dtroupe.store.maps=${store?.maps ?? STORED_MAPS}`,
    `-Dtroupe.store.preload=${PRELOADED_MAPS}`,
  ];
  if (store !== undefined) {
    flags.push(`-Dtroupe.store.url=${store.jdbcUrl}`, `-Dtroupe.store.user=${store.user}`);
    if (store.poolSize !== undefined) flags.push(`-Dtroupe.store.pool-size=${store.poolSize}`);
  }
  return flags;
}

export function writeDelayOf(store: MemberStore): number {
  if (store.mode === 'write-through') return 0;
  const d = store.writeDelaySeconds ?? DEFAULT_WRITE_DELAY_SECONDS;
  if (!Number.isInteger(d) || d < 1) throw new TypeError(`write-behind needs writeDelaySeconds >= 1 (a whole number), got ${d}`);
  return d;
}

/** Environment for the member process: the database password, when there is one. */
export function storeEnvironment(store: MemberStore | undefined): Record<string, string> {
  return store?.password === undefined || store.password === '' ? {} : { TROUPE_STORE_PASSWORD: store.password };
}

/**
 * Splits a libpq-style URL (`postgres://user:password@host:port/db`, as
 * operators and `--durable-url` write it) into the JDBC URL and credentials.
 */
export function parsePostgresUrl(text: string): { jdbcUrl: string; user: string; password: string; host: string; port: number; database: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new TypeError(`not a URL: '${text}' (expected postgres://user:password@host:port/database)`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new TypeError(`expected a postgres:// URL, got '${u.protocol}//...'`);
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres';
  const port = u.port === '' ? 5432 : Number(u.port);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new TypeError('the postgres:// URL has no host');
  const params = u.searchParams.toString();
  return {
    jdbcUrl: `jdbc:postgresql://${u.hostname}:${port}/${encodeURIComponent(database)}${params === '' ? '' : `?${params}`}`,
    user: decodeURIComponent(u.username) || 'troupe',
    password: decodeURIComponent(u.password),
    host,
    port,
    database,
  };
}

/**
 * Runs scripts/build-member-store.sh: builds the jar once per source change,
 * then answers from the cache. `detail` hears the script's progress lines.
 */
export async function buildMemberStoreJar(detail?: Detail): Promise<string> {
  const fromEnv = process.env.TROUPE_MEMBER_STORE_JAR;
  if (fromEnv !== undefined && fromEnv !== '' && existsSync(fromEnv)) return fromEnv;
  return runSetupScript({ path: storeBuildScriptPath(), what: "building the members' store jar", timeoutMs: 900_000, tailLines: 5 }, detail);
}
