/**
 * One chaos run: bank transfers through Transfer sagas, relays, reminders and
 * counters (adds and reads) on a 3-node cluster (real Consul, real Hazelcast)
 * while the enabled faults (faults.ts) hit it; then the settle phase, the
 * re-drive and the checks.
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
import { checkReminders, checkRelays, checkRun, countByKind, type Violation } from './checks.js';
import { checkCounters, quantile } from './counter-checks.js';
import { CounterLoad } from './counter-load.js';
import { FAULT_KINDS, needsLab, type FaultKind } from './faults.js';
import { netnsUnavailable } from '../fixtures/netns.js';
import { outboxesDrained, readCounters, readReminders } from './observe-effects.js';
import { RelayLoad } from './relay-load.js';
import { ReminderLoad, type ScheduledReminder } from './reminder-load.js';
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
  /** Relay calls (Relay.forward / forwardAwait) in flight at once; 0 turns the relay workload off. */
  readonly relayWorkers: number;
  /** Reminder schedules in flight at once; 0 turns the reminder workload off. */
  readonly reminderWorkers: number;
  /** Counter adds and reads in flight at once; 0 turns the counter workload off. */
  readonly counterWorkers: number;
  /** Counter keys the adds and reads share (few, so reads race adds on the same key). */
  readonly counterKeys: number;
  readonly maxTransfers: number;
  /** Fault kinds to inject (faults.ts). */
  readonly faults: readonly FaultKind[];
  /** Hazelcast members (≥ 2 for the `member` fault: the others hold its backups). */
  readonly members: number;
  /** Pause before each fault, ms. */
  readonly killEveryMs: readonly [number, number];
  readonly downForMs: readonly [number, number];
  /** SIGSTOP length, ms: longer than the Consul TTL (2 s), so the others take the node's shards meanwhile. */
  readonly pauseForMs: readonly [number, number];
  /** How long a node stays cut off, ms. */
  readonly cutForMs: readonly [number, number];
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
  relayWorkers: 4,
  reminderWorkers: 2,
  counterWorkers: 4,
  counterKeys: 4,
  maxTransfers: 20_000,
  faults: ['kill', 'restart'] as readonly FaultKind[],
  // A kill every 3–5 s: at least three in 20 s while two nodes run (the CI run asserts two).
  killEveryMs: [3000, 5000] as const,
  downForMs: [1000, 3000] as const,
  pauseForMs: [3000, 5000] as const,
  cutForMs: [3000, 6000] as const,
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

function checkFaults(faults: readonly FaultKind[]): FaultKind[] {
  if (!Array.isArray(faults) || faults.length === 0) throw new TypeError(`faults must list at least one of ${FAULT_KINDS.join(', ')}`);
  for (const f of faults) if (!(FAULT_KINDS as readonly string[]).includes(f)) throw new TypeError(`unknown fault '${String(f)}'; known: ${FAULT_KINDS.join(', ')}`);
  if (needsLab(faults)) {
    const why = netnsUnavailable();
    if (why !== undefined) throw new TypeError(`faults ${faults.filter((f) => f === 'partition' || f === 'agent').join(',')} need a network namespace per node, and ${why}`);
  }
  return [...new Set(faults)];
}

/** Fills in defaults and checks every option once, naming a bad one. */
export function chaosOptions(partial: Partial<ChaosOptions> = {}): ChaosOptions {
  const seed = partial.seed ?? Math.floor(Math.random() * 2 ** 31);
  const accounts = positiveInt('accounts', partial.accounts ?? DEFAULTS.accounts, 2);
  const closedAccounts = positiveInt('closedAccounts', partial.closedAccounts ?? Math.min(DEFAULTS.closedAccounts, accounts - 2), 0);
  // Two open accounts at least, so some transfers can complete.
  if (closedAccounts > accounts - 2) throw new TypeError(`closedAccounts must leave at least 2 open accounts, got ${closedAccounts} of ${accounts}`);
  const sagaStaleMs = positiveInt('sagaStaleMs', partial.sagaStaleMs ?? DEFAULTS.sagaStaleMs, 100);
  const faults = checkFaults(partial.faults ?? DEFAULTS.faults);
  const o: ChaosOptions = {
    seconds: positiveInt('seconds', partial.seconds ?? DEFAULTS.seconds),
    seed: positiveInt('seed', seed, 0),
    nodes: positiveInt('nodes', partial.nodes ?? DEFAULTS.nodes, 2),
    accounts,
    closedAccounts,
    initialBalance: positiveInt('initialBalance', partial.initialBalance ?? DEFAULTS.initialBalance, 5),
    workers: positiveInt('workers', partial.workers ?? DEFAULTS.workers),
    relayWorkers: positiveInt('relayWorkers', partial.relayWorkers ?? DEFAULTS.relayWorkers, 0),
    reminderWorkers: positiveInt('reminderWorkers', partial.reminderWorkers ?? DEFAULTS.reminderWorkers, 0),
    counterWorkers: positiveInt('counterWorkers', partial.counterWorkers ?? DEFAULTS.counterWorkers, 0),
    counterKeys: positiveInt('counterKeys', partial.counterKeys ?? DEFAULTS.counterKeys),
    maxTransfers: positiveInt('maxTransfers', partial.maxTransfers ?? DEFAULTS.maxTransfers),
    faults: Object.freeze(faults),
    members: positiveInt('members', partial.members ?? (faults.includes('member') ? 2 : 1), faults.includes('member') ? 2 : 1),
    killEveryMs: range('killEveryMs', partial.killEveryMs ?? DEFAULTS.killEveryMs),
    downForMs: range('downForMs', partial.downForMs ?? DEFAULTS.downForMs),
    pauseForMs: range('pauseForMs', partial.pauseForMs ?? DEFAULTS.pauseForMs),
    cutForMs: range('cutForMs', partial.cutForMs ?? DEFAULTS.cutForMs),
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
    readonly faults: readonly FaultKind[];
    readonly topology: 'loopback' | 'lab';
    readonly members: number;
    /** Faults injected, by kind (`restart`: nodes, members and agents started again). */
    readonly injected: Record<FaultKind, number>;
    readonly kills: number;
    readonly restarts: number;
    readonly restartFailures: number;
    readonly events: readonly ChaosEvent[];
  };
  readonly counters: {
    readonly keys: number;
    readonly adds: number;
    readonly acked: number;
    readonly unknown: number;
    readonly resent: number;
    readonly reads: number;
    readonly readErrors: number;
    readonly staleReads: number;
    /** ms from the ack of the earliest add a read missed to the read's start; 0 when every read was fresh. */
    readonly stalenessMax: number | null;
    readonly stalenessP99: number | null;
    /** The bound the runtime promises while views differ (`--read-lease`). */
    readonly readLeaseMs: number;
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
  readonly relays: { readonly acked: number; readonly unacknowledged: number; readonly resent: number; readonly counters: number; readonly outboxDrainMs: number };
  readonly reminders: {
    readonly scheduled: number;
    readonly cancelled: number;
    readonly fired: number;
    readonly latenessP50: number | null;
    readonly latenessP99: number | null;
    readonly latenessMax: number | null;
    /** Firings not there at the first read (a failover after the last was due) but there by a later one. */
    readonly seenLate: number;
  };
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

/** A plain kill's failover bound (README): reminders are read first this long after the last is due. */
const FAILOVER_BOUND_MS = 3000;
/**
 * How long after the last due time a reminder that has not fired counts as
 * missed. Faults stack (a shard's new owner paused or cut off in turn, the
 * grid member holding its entry killed), each adding up to a failover, so a
 * firing can come several bounds late; such firings are listed with the
 * faults around them, and only one still missing after this is a violation.
 */
const REMINDER_NEVER_MS = 30_000;

/** One line per reminder that fired later than a failover, with the faults from 6 s before it was due until it fired. */
function lateFirings(reminders: readonly ScheduledReminder[], latenessOf: ReadonlyMap<string, number>, monkey: ChaosMonkey): string[] {
  const lines: string[] = [];
  for (const r of reminders) {
    const late = latenessOf.get(`${r.ticker}/${r.id}`);
    if (late === undefined || late <= FAILOVER_BOUND_MS) continue;
    const due = r.dueAt - monkey.t0;
    const faults = monkey.events.filter((e) => e.t >= due - 6000 && e.t <= due + late).map((e) => `${e.what} ${e.target} at ${(e.t / 1000).toFixed(1)} s`);
    lines.push(`late reminder ${r.ticker}/${r.id}: due at ${(due / 1000).toFixed(1)} s, fired ${late} ms late; faults around it: ${faults.join(', ') || 'none'}`);
  }
  return lines;
}

/** For a doubled relay counter: the calls to it whose amount equals the excess, with what their client saw. */
function relaySuspects(relays: RelayLoad, totals: ReadonlyMap<string, number | null>, detail: string): string {
  const key = detail.split(':')[0]!;
  const e = relays.expected.get(key);
  const total = totals.get(key);
  if (e === undefined || total === undefined || total === null) return 'no evidence';
  // Amounts are unique per call, so an excess (or a shortfall) of one call's amount names it.
  const lost = total < e.acked;
  const excess = lost ? e.acked - total : total - e.acked - e.unknown;
  const suspects = relays.calls.filter((c) => c.counter === key && c.amount === excess && (!lost || c.acked));
  const iso = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString().slice(11, 23));
  return suspects.length === 0
    ? `no single ${lost ? 'acknowledged ' : ''}call of ${excess} to it`
    : suspects.map((c) => `${c.method} via ${c.relay} (${c.idem}), sent ${iso(c.sentAt)}, acknowledged ${iso(c.ackedAt)}, failed attempts: ${c.codes.join(',') || 'none'}`).join('; ');
}

/** The read lease the nodes run with: `--read-lease` among the node flags, else the runtime's default (1 s). */
function readLease(flags: readonly string[]): number {
  const i = flags.lastIndexOf('--read-lease');
  return i >= 0 && flags[i + 1] !== undefined ? Number(flags[i + 1]) : 1000;
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

  const topology = needsLab(o.faults) ? 'lab' : 'loopback';
  o.progress(`faults ${o.faults.join(',')}; ${o.members} Hazelcast member(s); ${topology} topology`);
  const cluster = await ChaosCluster.start({
    nodes: o.nodes, sagaScanMs: o.sagaScanMs, sagaStaleMs: o.sagaStaleMs, nodeFlags: o.nodeFlags, logDir: o.logDir, progress: o.progress,
    topology, hazelcast: { members: o.members },
  });
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
    const relays = new RelayLoad({ clients, workers: o.relayWorkers, runId, rng, relays: 50, counters: 20, until, giveUpMs: 60_000, callTimeoutMs: 5000 });
    const reminders = new ReminderLoad({ clients, workers: o.reminderWorkers, runId, rng, tickers: 40, until, giveUpMs: 60_000, callTimeoutMs: 5000, cancelShare: 0.2 });
    const counters = new CounterLoad({ clients, workers: o.counterWorkers, runId, rng, keys: o.counterKeys, readShare: 0.5, until, giveUpMs: 60_000, callTimeoutMs: 5000 });
    const monkey = new ChaosMonkey(cluster, {
      faults: o.faults, faultEveryMs: o.killEveryMs, downForMs: o.downForMs, pauseForMs: o.pauseForMs, cutForMs: o.cutForMs, rng, progress: o.progress,
    });
    const loadStart = Date.now();
    ticker = setInterval(() => {
      const c = load.counts;
      o.progress(`t+${Math.round((Date.now() - loadStart) / 1000)}s: ${c.started} started, ${c.completed} completed, ${c.failed} failed, ${c.errors} client errors | relays ${relays.counts.acked} acked | reminders ${reminders.reminders.length} | counters ${counters.counts.acked} adds, ${counters.counts.reads} reads | up: ${cluster.alive().join(',') || 'none'} | faults ${Object.entries(monkey.injected).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
    }, 5000);
    ticker.unref();
    o.progress(`load and chaos for ${o.seconds} s`);
    await Promise.all([load.run(), relays.run(), reminders.run(), counters.run(), monkey.run(until)]);
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

    // Relays and reminders: every tell delivered, every reminder past due (plus a failover's worth), then read (late firings waited for).
    const drainMs = await outboxesDrained(cluster.urls, 30_000);
    if (drainMs < 0) violations.push({ kind: 'relay_lost', detail: 'outboxes still hold tells 30 s after the load' });
    const waitDue = reminders.lastDue + FAILOVER_BOUND_MS - Date.now();
    if (waitDue > 0) await new Promise((r) => setTimeout(r, waitDue));
    o.progress(`reading ${relays.counterKeys.length} relay counters and ${reminders.tickerKeys.length} tickers`);
    const relayTotals = await readCounters(admin, relays.counterKeys);
    for (const v of checkRelays(relays.expected, relayTotals)) violations.push(v.kind === 'relay_doubled' || v.kind === 'relay_lost' ? { ...v, detail: `${v.detail}; ${relaySuspects(relays, relayTotals, v.detail)}` } : v);
    const reading = await readReminders(admin, reminders.tickerKeys, reminders.reminders, reminders.lastDue + REMINDER_NEVER_MS);
    const { outcomes, lateness } = reading;
    violations.push(...checkReminders(outcomes));
    for (const line of lateFirings(reminders.reminders, reading.latenessOf, monkey)) o.progress(line);
    const counterVerdict = checkCounters(counters.adds, counters.reads, await readCounters(admin, counters.counterKeys));
    violations.push(...counterVerdict.violations);
    const pct = (q: number): number | null => (lateness.length === 0 ? null : lateness[Math.min(lateness.length - 1, Math.floor(q * lateness.length))]!);

    // An answer that is neither outcome is not a violation by itself, but it is odd: show what it was.
    for (const t of load.transfers.filter((x) => x.seen === 'error:E_BAD_ANSWER').slice(0, 5)) o.progress(`transfer ${t.id}: ${t.error ?? '?'}`);
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
      chaos: {
        faults: o.faults, topology, members: o.members, injected: { ...monkey.injected },
        kills: monkey.kills, restarts: monkey.restarts, restartFailures: monkey.restartFailures, events: monkey.events,
      },
      counters: {
        keys: o.counterKeys,
        adds: counters.adds.length,
        acked: counters.counts.acked,
        unknown: counters.counts.unknown,
        resent: counters.counts.resent,
        reads: counters.counts.reads,
        readErrors: counters.counts.readErrors,
        staleReads: counterVerdict.staleness.filter((ms) => ms > 0).length,
        stalenessMax: counterVerdict.staleness.length === 0 ? null : counterVerdict.staleness.reduce((m, ms) => Math.max(m, ms), 0),
        stalenessP99: quantile(counterVerdict.staleness, 0.99),
        readLeaseMs: readLease(o.nodeFlags),
      },
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
      relays: { ...relays.counts, counters: relays.counterKeys.length, outboxDrainMs: drainMs },
      reminders: {
        scheduled: reminders.reminders.filter((r) => r.scheduled).length,
        cancelled: reminders.reminders.filter((r) => r.cancelled === true).length,
        fired: outcomes.reduce((n, r) => n + (r.fired ?? 0), 0),
        latenessP50: pct(0.5),
        latenessP99: pct(0.99),
        latenessMax: lateness.at(-1) ?? null,
        seenLate: reading.seenLate,
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
