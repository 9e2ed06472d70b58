/**
 * The whole grid crashes: two Troupe nodes (a real cluster on Consul) drive
 * Counter.add and bank Transfer sagas on three Hazelcast members with
 * PostgreSQL behind them; every member is killed with SIGKILL at once, then
 * all are started again. What the grid holds afterwards is read straight
 * from the members, before anything writes to it, and compared with what
 * clients were told; then the load resumes, the sagas settle and the bank's
 * books are checked (test/chaos/checks.ts).
 *
 * Bounded everywhere: load phases by time, each call by its timeout, the
 * restart and the settle phase by their own limits.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TroupeClient } from '../../client/index.js';
import type { DurabilityMode } from '../../runtime/cli/hazelcast/members.js';
import { callWithRetries, mapLimit } from '../chaos/calls.js';
import { checkRun, type Violation } from '../chaos/checks.js';
import { ChaosCluster } from '../chaos/cluster.js';
import { TransferLoad, type TransferRecord } from '../chaos/load.js';
import { observe } from '../chaos/observe.js';
import { seeded } from '../chaos/random.js';
import { startPostgresFixture } from '../fixtures/postgres.js';
import { CounterLoad } from './counter-load.js';
import { readRaw } from './grid-reader.js';

export interface CrashAllOptions {
  readonly mode: DurabilityMode;
  /**
   * Load before the crash, s: at least this long, and until the load made
   * real progress (MIN_ACKS increments, MIN_TRANSFERS transfers), at most
   * PROGRESS_LIMIT_MS; a shared machine can make a fresh cluster's first
   * seconds slow, and a crash before anything was acknowledged proves nothing.
   */
  readonly beforeSeconds: number;
  /** Load after the grid is back, s. */
  readonly afterSeconds: number;
  readonly seed: number;
  readonly progress: (line: string) => void;
  /** Runs after the checks' reads, with the cluster still up (the E_DATA_LOST test uses it). */
  readonly alsoWhileUp?: (ctx: { cluster: ChaosCluster; clients: readonly TroupeClient[]; psql: (sql: string) => Promise<string> }) => Promise<void>;
}

export interface CounterFindings {
  readonly keys: number;
  readonly acked: number;
  /** Acknowledged increments the restored grid does not have. */
  readonly lostAcks: number;
  readonly keysWithLoss: number;
  /** Keys whose record came back absent. */
  readonly keysMissing: number;
  /** Oldest lost acknowledgement, ms before the kill (negative: answered after the kill signal went out). */
  readonly oldestLostAgeMs: number | null;
  /** Keys holding more than was ever sent: an update applied twice. */
  readonly overApplied: readonly string[];
  /** Keys whose write-through record lacks an acknowledged increment. */
  readonly belowAcked: readonly string[];
  /** After the restart: keys whose total disagrees with restored + what the second phase did. */
  readonly phaseTwoMismatch: readonly string[];
  readonly phaseTwoAcked: number;
}

export interface CrashAllReport {
  readonly mode: DurabilityMode;
  /** SIGKILL of the last member → all members formed one cluster again. */
  readonly gridDownMs: number;
  readonly counters: CounterFindings;
  readonly transfers: {
    readonly started: number;
    readonly completedBeforeCrash: number;
    readonly completed: number;
    /** Transfers a client saw complete more than `windowMs` before the crash whose status afterwards is not completed. */
    readonly oldCompletedLost: readonly string[];
  };
  readonly money: { readonly initial: number; readonly final: number | null };
  readonly violations: readonly Violation[];
  readonly durationMs: number;
}

const ACCOUNTS = 12;
const INITIAL = 1000;
const COUNTER_KEYS = 120;
const COUNTER_LANES = 24;
const CALL_TIMEOUT_MS = 8_000;
const MIN_ACKS = 300;
const MIN_TRANSFERS = 10;
const PROGRESS_LIMIT_MS = 45_000;

function percentileLine(ms: number[]): string {
  if (ms.length === 0) return 'none';
  const s = [...ms].sort((a, b) => a - b);
  return `${s.length} lost, newest ${s[0]} ms, oldest ${s[s.length - 1]} ms before the kill`;
}

export async function runCrashAll(o: CrashAllOptions, windowMs: number): Promise<CrashAllReport> {
  const t0 = Date.now();
  const runId = `crash-${o.mode}-${t0.toString(36)}`;
  const pg = await startPostgresFixture();
  let cluster: ChaosCluster | undefined;
  const clients: TroupeClient[] = [];
  try {
    o.progress(`PostgreSQL ${pg.url}; starting Consul, 3 members (${o.mode}) and 2 nodes`);
    cluster = await ChaosCluster.start({
      nodes: 2,
      sagaScanMs: 500,
      sagaStaleMs: 3000,
      // Idle actors are dropped after 2 s, so a record changed behind a node's back is read again soon.
      nodeFlags: ['--idle', '2000'],
      logDir: join(tmpdir(), `troupe-${runId}`),
      progress: o.progress,
      hazelcast: { members: 3, store: { jdbcUrl: pg.jdbcUrl(), user: pg.user, mode: o.mode, writeDelaySeconds: 1 } },
    });
    const urls = cluster.urls;
    const rotated = (i: number): string[] => [...urls.slice(i % urls.length), ...urls.slice(0, i % urls.length)];
    // Transfers: patient clients (autoIdem + retries, they ride out the outage) and impatient ones (their half-done sagas go to the resumers).
    for (let i = 0; i < 4; i++) {
      clients.push(await connect({ urls: rotated(i), timeout: 15_000, connectTimeout: 30_000, ...(i % 2 === 0 ? { autoIdem: true, retry: { attempts: 40, baseMs: 100, maxMs: 1000 } } : {}) }));
    }
    // Counters: plain clients, no retries, so an acknowledgement means exactly one applied increment.
    const counterClients = [await connect({ urls: rotated(0), timeout: CALL_TIMEOUT_MS, connectTimeout: 30_000 }), await connect({ urls: rotated(1), timeout: CALL_TIMEOUT_MS, connectTimeout: 30_000 })];
    clients.push(...counterClients);
    const admin = clients[0]!;

    const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `${runId}-a${i}`);
    await mapLimit(accounts, 6, async (a) => {
      const r = await callWithRetries<number>(admin, 'Account', a, 'deposit', [INITIAL], { attempts: 10, timeoutMs: 10_000, idem: `${a}:fund` });
      if (!r.ok || r.value !== INITIAL) throw new Error(`funding ${a}: ${JSON.stringify(r)}`);
    });

    const loadStart = Date.now();
    const end = loadStart + (o.beforeSeconds + o.afterSeconds + 15) * 1000 + PROGRESS_LIMIT_MS;
    const transfers = new TransferLoad({ clients: clients.slice(0, 4), workers: 6, accounts, initialBalance: INITIAL, runId, rng: seeded(o.seed), maxTransfers: 5000, until: end, callTimeoutMs: 15_000 });
    const transfersDone = transfers.run();
    const keys = Array.from({ length: COUNTER_KEYS }, (_, i) => `${runId}-c${i}`);
    const counters = new CounterLoad(counterClients, keys, COUNTER_LANES, CALL_TIMEOUT_MS);
    counters.start(end);
    await new Promise((r) => setTimeout(r, o.beforeSeconds * 1000));
    for (const until = Date.now() + PROGRESS_LIMIT_MS; Date.now() < until && (counters.ackCount < MIN_ACKS || transfers.counts.completed < MIN_TRANSFERS); ) {
      await new Promise((r) => setTimeout(r, 200));
    }

    o.progress(`kill -9 of every member under load (${counters.ackCount} counter increments and ${transfers.counts.completed} transfers acknowledged so far)`);
    const completedBeforeCrash = transfers.transfers.filter((t) => t.seen === 'completed').length;
    const hz = cluster.grid;
    for (let i = 0; i < hz.members.length; i++) hz.kill(i);
    const crashAt = Date.now();
    // The counters stop at the crash: what they were told is what the restored grid is compared with.
    await counters.stop();
    await new Promise((r) => setTimeout(r, 1000));
    o.progress('starting every member again');
    await hz.restartAll();
    const gridDownMs = Date.now() - crashAt;
    o.progress(`members back after ${gridDownMs} ms; reading the restored counters from the grid`);

    const restored = await readRaw(hz, 'Counter', keys);
    const lostAges: number[] = [];
    let lostAcks = 0;
    let keysWithLoss = 0;
    let keysMissing = 0;
    const overApplied: string[] = [];
    const belowAcked: string[] = [];
    const restoredTotal = new Map<string, number>();
    for (const k of keys) {
      const rec = restored.get(k);
      if (rec === undefined && counters.acks.get(k)!.length > 0) keysMissing++;
      const total = (rec?.state as { total?: number } | undefined)?.total ?? 0;
      restoredTotal.set(k, total);
      const max = counters.maxAcked(k);
      if (total > counters.sent.get(k)!) overApplied.push(`${k}: ${total} > ${counters.sent.get(k)} sent`);
      if (total < max) {
        belowAcked.push(`${k}: ${total} < ${max} acknowledged`);
        keysWithLoss++;
        lostAcks += max - total;
        const firstLost = counters.acks.get(k)!.find((a) => a.total > total)!;
        lostAges.push(crashAt - firstLost.at);
      }
    }
    o.progress(`counters: ${counters.ackCount} increments acknowledged before the kill; lost: ${percentileLine(lostAges)}`);

    o.progress(`load goes on for ${o.afterSeconds} s`);
    const phaseTwo = new CounterLoad(counterClients, keys, COUNTER_LANES, CALL_TIMEOUT_MS);
    // Wait until the nodes take calls again (their clients reconnect), bounded.
    for (let i = 0; i < 100; i++) {
      const r = await callWithRetries<number>(counterClients[0]!, 'Counter', `${runId}-probe`, 'add', [1], { attempts: 1, timeoutMs: 2000 });
      if (r.ok) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    phaseTwo.start(Date.now() + o.afterSeconds * 1000);
    await new Promise((r) => setTimeout(r, o.afterSeconds * 1000));
    await phaseTwo.stop();
    transfers.stop();
    await transfersDone;

    const after = await readRaw(hz, 'Counter', keys);
    const phaseTwoMismatch: string[] = [];
    for (const k of keys) {
      const total = (after.get(k)?.state as { total?: number } | undefined)?.total ?? 0;
      const base = restoredTotal.get(k)!;
      const lo = base + phaseTwo.acks.get(k)!.length;
      const hi = base + phaseTwo.sent.get(k)!;
      if (total < lo || total > hi) phaseTwoMismatch.push(`${k}: ${total} not in [${lo}, ${hi}] (restored ${base})`);
    }

    await cluster.waitForMembers(60_000);
    // Write-behind loses the newest records of some sagas (they then fail E_DATA_LOST), so their journal entries stay: a short settle.
    const settleTimeoutMs = o.mode === 'write-through' ? 30_000 : 8_000;
    const observed = await observe({ client: admin, accounts, transfers: transfers.transfers, settleTimeoutMs, progress: o.progress });
    const resumed = new Map<string, string[]>();
    for (const r of cluster.sagaResumes()) {
      const id = r.saga.replace(/^transfer:/, '');
      resumed.set(id, [...(resumed.get(id) ?? []), r.phase]);
    }
    const violations = checkRun({ accounts, initialBalance: INITIAL, transfers: transfers.transfers }, { ...observed, resumed });
    const balances = [...observed.balances.values()];
    const crashT = crashAt - loadStart;
    const oldCompletedLost = transfers.transfers
      .filter((t: TransferRecord) => t.seen === 'completed' && t.answeredAt !== undefined && crashT - t.answeredAt > windowMs)
      .filter((t) => observed.statusAfterSettle.get(t.id) !== 'completed')
      .map((t) => `${t.id}: ${observed.statusAfterSettle.get(t.id)}`);

    if (o.alsoWhileUp !== undefined) await o.alsoWhileUp({ cluster, clients, psql: (sql) => pg.psql(sql) });

    return {
      mode: o.mode,
      gridDownMs,
      counters: {
        keys: keys.length,
        acked: counters.ackCount,
        lostAcks,
        keysWithLoss,
        keysMissing,
        oldestLostAgeMs: lostAges.length === 0 ? null : Math.max(...lostAges),
        overApplied,
        belowAcked,
        phaseTwoMismatch,
        phaseTwoAcked: phaseTwo.ackCount,
      },
      transfers: {
        started: transfers.counts.started,
        completedBeforeCrash,
        completed: [...observed.finalOutcome.values()].filter((v) => v === 'completed').length,
        oldCompletedLost,
      },
      money: { initial: ACCOUNTS * INITIAL, final: balances.every((b) => b !== null) ? balances.reduce<number>((s, b) => s + b!, 0) : null },
      violations,
      durationMs: Date.now() - t0,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await cluster?.stop();
    await pg.remove();
  }
}
