/**
 * One chaos run: bank transfers through Transfer sagas on a 3-node cluster
 * (real Consul, real Hazelcast) while nodes are killed with SIGKILL and
 * restarted; then the settle phase, the re-drive and the checks.
 *
 * Used by `npm run chaos` (test/chaos/main.ts) and by the short CI run
 * (test/chaos.test.ts). Everything is bounded: the load and the chaos by
 * `seconds` and `maxTransfers`, each call by its timeout and attempts, the
 * settle phase by `settleTimeoutMs`.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TroupeClient } from '../../client/index.js';
import { callWithRetries, mapLimit } from './calls.js';
import { checkRun, countByKind, type Violation } from './checks.js';
import { ChaosCluster } from './cluster.js';
import { TransferLoad } from './load.js';
import { ChaosMonkey, type ChaosEvent } from './monkey.js';
import { observe } from './observe.js';
import { seeded } from './random.js';

export interface ChaosOptions {
  /** How long the load and the chaos last, s. */
  readonly seconds: number;
  readonly seed: number;
  readonly nodes: number;
  readonly accounts: number;
  /**
   * Accounts closed to deposits after funding: a transfer into one withdraws,
   * fails at the deposit, and must be compensated (money still leaves them).
   */
  readonly closedAccounts: number;
  /** Every account starts with this many cents. */
  readonly initialBalance: number;
  /** Transfers in flight at once. */
  readonly workers: number;
  readonly maxTransfers: number;
  readonly killEveryMs: readonly [number, number];
  readonly downForMs: readonly [number, number];
  readonly sagaScanMs: number;
  readonly sagaStaleMs: number;
  /** Client timeout of one transfer call, ms. */
  readonly callTimeoutMs: number;
  readonly settleTimeoutMs: number;
  /** Extra flags for every node (e.g. `--idem-max 10000`), after the run's own: they win. */
  readonly nodeFlags: readonly string[];
  /** Node logs go here, one file per process. */
  readonly logDir: string;
  readonly progress: (message: string) => void;
}

export const DEFAULTS = {
  seconds: 60,
  nodes: 3,
  accounts: 20,
  closedAccounts: 2,
  initialBalance: 1000,
  workers: 8,
  maxTransfers: 20_000,
  // A kill every 3–5 s: at least three in 20 s while two nodes run (the CI run asserts two).
  killEveryMs: [3000, 5000] as const,
  downForMs: [1000, 3000] as const,
  sagaScanMs: 500,
  sagaStaleMs: 3000,
  callTimeoutMs: 15_000,
} as const;

function positiveInt(name: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw new TypeError(`${name} must be an integer ≥ ${min}, got ${String(value)}`);
  return value;
}

function range(name: string, value: readonly [number, number]): readonly [number, number] {
  const [lo, hi] = value;
  positiveInt(`${name}[0]`, lo, 0);
  positiveInt(`${name}[1]`, hi, 0);
  if (hi < lo) throw new TypeError(`${name} must be [min, max] with min ≤ max, got [${lo}, ${hi}]`);
  return Object.freeze([lo, hi] as const);
}

function checkNodeFlags(flags: readonly string[]): string[] {
  if (!Array.isArray(flags) || flags.some((f) => typeof f !== 'string')) throw new TypeError('nodeFlags must be an array of strings');
  if (flags.length > 0 && !flags[0]!.startsWith('--')) throw new TypeError(`nodeFlags must start with a --flag, got '${flags[0]}'`);
  return [...flags];
}

/** Fills in defaults and checks every option once, naming a bad one. */
export function chaosOptions(partial: Partial<ChaosOptions> = {}): ChaosOptions {
  const seed = partial.seed ?? Math.floor(Math.random() * 2 ** 31);
  const accounts = positiveInt('accounts', partial.accounts ?? DEFAULTS.accounts, 2);
  const closedAccounts = positiveInt('closedAccounts', partial.closedAccounts ?? Math.min(DEFAULTS.closedAccounts, accounts - 2), 0);
  // Two open accounts at least, so some transfers can complete.
  if (closedAccounts > accounts - 2) throw new TypeError(`closedAccounts must leave at least 2 open accounts, got ${closedAccounts} of ${accounts}`);
  const sagaStaleMs = positiveInt('sagaStaleMs', partial.sagaStaleMs ?? DEFAULTS.sagaStaleMs, 100);
  const o: ChaosOptions = {
    seconds: positiveInt('seconds', partial.seconds ?? DEFAULTS.seconds),
    seed: positiveInt('seed', seed, 0),
    nodes: positiveInt('nodes', partial.nodes ?? DEFAULTS.nodes, 2),
    accounts,
    closedAccounts,
    initialBalance: positiveInt('initialBalance', partial.initialBalance ?? DEFAULTS.initialBalance, 5),
    workers: positiveInt('workers', partial.workers ?? DEFAULTS.workers),
    maxTransfers: positiveInt('maxTransfers', partial.maxTransfers ?? DEFAULTS.maxTransfers),
    killEveryMs: range('killEveryMs', partial.killEveryMs ?? DEFAULTS.killEveryMs),
    downForMs: range('downForMs', partial.downForMs ?? DEFAULTS.downForMs),
    sagaScanMs: positiveInt('sagaScanMs', partial.sagaScanMs ?? DEFAULTS.sagaScanMs, 100),
    sagaStaleMs,
    callTimeoutMs: positiveInt('callTimeoutMs', partial.callTimeoutMs ?? DEFAULTS.callTimeoutMs, 100),
    // Long enough for a stale entry to be seen, resumed on its owner, and its tell to clean up, several times over.
    settleTimeoutMs: positiveInt('settleTimeoutMs', partial.settleTimeoutMs ?? Math.max(30_000, 6 * sagaStaleMs), 1000),
    nodeFlags: Object.freeze(checkNodeFlags(partial.nodeFlags ?? [])),
    logDir: partial.logDir ?? join(tmpdir(), `troupe-chaos-${seed}-${process.pid}`),
    progress: partial.progress ?? ((m) => process.stderr.write(`[chaos] ${m}\n`)),
  };
  return Object.freeze(o);
}

export interface ChaosReport {
  readonly ok: boolean;
  readonly seed: number;
  readonly seconds: number;
  readonly durationMs: number;
  readonly transfers: {
    readonly started: number;
    readonly clientCompleted: number;
    readonly clientFailed: number;
    readonly clientErrors: number;
    readonly clientErrorsByCode: Record<string, number>;
    readonly finalCompleted: number;
    readonly finalFailed: number;
    readonly unresolved: number;
    /** Failed transfers into a closed account: their withdrawal was compensated (unless it had failed first). */
    readonly failedIntoClosed: number;
  };
  readonly chaos: {
    readonly kills: number;
    readonly restarts: number;
    readonly restartFailures: number;
    readonly events: readonly ChaosEvent[];
  };
  readonly sagas: {
    /** `saga_resume` log lines over every node process of the run. */
    readonly resumedByNodes: number;
    readonly resumeFailures: number;
    readonly journalAtSettleStart: number;
    /** Entries the resumers had not finished when the settle phase ended (0 when they all finished). */
    readonly journalAfterSettle: number;
    readonly settleMs: number;
  };
  readonly money: { readonly initialTotal: number; readonly finalTotal: number | null };
  readonly violations: readonly Violation[];
  readonly violationCounts: Record<string, number>;
  readonly logDir: string;
}

/**
 * Patient clients (autoIdem, retries) re-send a call cut by a kill, so their
 * sagas mostly finish through the retry; impatient ones (no idem key, no
 * retry) give up with E_UNAVAILABLE / E_TIMEOUT and leave a half-done saga to
 * the nodes' resumers. Both paths must keep the money right.
 */
async function openClients(urls: readonly string[], count: number, timeout: number): Promise<TroupeClient[]> {
  // Each client starts on a different node, so the gateways share the load; all fail over to the rest.
  return Promise.all(Array.from({ length: count }, (_, i) => {
    const rotated = [...urls.slice(i % urls.length), ...urls.slice(0, i % urls.length)];
    const patient = i % 2 === 0;
    return connect({
      urls: rotated,
      timeout,
      connectTimeout: 30_000,
      ...(patient ? { autoIdem: true, retry: { attempts: 20, baseMs: 50, maxMs: 500 } } : {}),
    });
  }));
}

/** Runs the whole scenario; resolves with the report (violations included), rejects only if the harness itself failed. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const o = options;
  const t0 = Date.now();
  const rng = seeded(o.seed);
  const runId = `chaos-${o.seed.toString(36)}-${t0.toString(36)}`;
  const accounts = Array.from({ length: o.accounts }, (_, i) => `${runId}-a${i}`);
  const closed = accounts.slice(accounts.length - o.closedAccounts);
  o.progress(`seed ${o.seed}, ${o.seconds} s, ${o.accounts} accounts × ${o.initialBalance} (${o.closedAccounts} closed to deposits), ${o.workers} workers${o.nodeFlags.length > 0 ? `, node flags ${o.nodeFlags.join(' ')}` : ''}, node logs in ${o.logDir}`);

  const cluster = await ChaosCluster.start({ nodes: o.nodes, sagaScanMs: o.sagaScanMs, sagaStaleMs: o.sagaStaleMs, nodeFlags: o.nodeFlags, logDir: o.logDir, progress: o.progress });
  const clients: TroupeClient[] = [];
  let ticker: NodeJS.Timeout | undefined;
  try {
    clients.push(...(await openClients(cluster.urls, Math.max(2, Math.min(o.workers, 4)), o.callTimeoutMs)));
    const admin = clients[0]!;

    o.progress(`funding ${accounts.length} accounts`);
    await mapLimit(accounts, 8, async (a) => {
      const r = await callWithRetries<number>(admin, 'Account', a, 'deposit', [o.initialBalance], { attempts: 10, timeoutMs: 10_000, idem: `${a}:fund` });
      if (!r.ok) throw new Error(`funding ${a} failed: ${r.code} ${r.message}`);
      if (r.value !== o.initialBalance) throw new Error(`funding ${a}: balance ${r.value} after the first deposit (the account was not new)`);
    });
    for (const a of closed) {
      const r = await callWithRetries<boolean>(admin, 'Account', a, 'close', [], { attempts: 10, timeoutMs: 10_000, idem: `${a}:close` });
      if (!r.ok) throw new Error(`closing ${a} failed: ${r.code} ${r.message}`);
    }

    const until = Date.now() + o.seconds * 1000;
    const load = new TransferLoad({
      clients, workers: o.workers, accounts, initialBalance: o.initialBalance, runId, rng, maxTransfers: o.maxTransfers, until, callTimeoutMs: o.callTimeoutMs,
    });
    const monkey = new ChaosMonkey(cluster, { killEveryMs: o.killEveryMs, downForMs: o.downForMs, rng, progress: o.progress });
    const loadStart = Date.now();
    ticker = setInterval(() => {
      const c = load.counts;
      o.progress(`t+${Math.round((Date.now() - loadStart) / 1000)}s: ${c.started} started, ${c.completed} completed, ${c.failed} failed, ${c.errors} client errors | up: ${cluster.alive().join(',') || 'none'} | kills ${monkey.kills}, restarts ${monkey.restarts}`);
    }, 5000);
    ticker.unref();
    o.progress(`load and chaos for ${o.seconds} s`);
    await Promise.all([load.run(), monkey.run(until)]);
    clearInterval(ticker);
    o.progress('load finished; restarting any node still down');
    await monkey.stop();
    await cluster.waitForMembers(60_000);

    const observed = await observe({ client: admin, accounts, transfers: load.transfers, settleTimeoutMs: o.settleTimeoutMs, progress: o.progress });
    const resumed = new Map<string, string[]>();
    for (const r of cluster.sagaResumes()) {
      const id = r.saga.replace(/^transfer:/, '');
      resumed.set(id, [...(resumed.get(id) ?? []), r.phase]);
    }
    const violations = checkRun({ accounts, initialBalance: o.initialBalance, transfers: load.transfers }, { ...observed, resumed });

    const byCode: Record<string, number> = {};
    for (const t of load.transfers) if (t.seen.startsWith('error:')) byCode[t.seen.slice(6)] = (byCode[t.seen.slice(6)] ?? 0) + 1;
    const finals = [...observed.finalOutcome.values()];
    const balances = [...observed.balances.values()];
    const logs = cluster.countLogEvents(['saga_resume', 'saga_resume_failed']);
    return {
      ok: violations.length === 0,
      seed: o.seed,
      seconds: o.seconds,
      durationMs: Date.now() - t0,
      transfers: {
        started: load.counts.started,
        clientCompleted: load.counts.completed,
        clientFailed: load.counts.failed,
        clientErrors: load.counts.errors,
        clientErrorsByCode: byCode,
        finalCompleted: finals.filter((f) => f === 'completed').length,
        finalFailed: finals.filter((f) => f === 'failed').length,
        unresolved: finals.filter((f) => f !== 'completed' && f !== 'failed').length,
        failedIntoClosed: load.transfers.filter((t) => closed.includes(t.to) && observed.finalOutcome.get(t.id) === 'failed').length,
      },
      chaos: { kills: monkey.kills, restarts: monkey.restarts, restartFailures: monkey.restartFailures, events: monkey.events },
      sagas: {
        resumedByNodes: logs.saga_resume!,
        resumeFailures: logs.saga_resume_failed!,
        journalAtSettleStart: observed.journalAtSettleStart,
        journalAfterSettle: observed.journalAfterSettle.length,
        settleMs: observed.settleMs,
      },
      money: {
        initialTotal: o.accounts * o.initialBalance,
        finalTotal: balances.every((b) => b !== null) ? balances.reduce<number>((s, b) => s + b!, 0) : null,
      },
      violations,
      violationCounts: countByKind(violations),
      logDir: o.logDir,
    };
  } finally {
    if (ticker !== undefined) clearInterval(ticker);
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await cluster.stop();
  }
}
