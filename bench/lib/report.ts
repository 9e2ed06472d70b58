/** The printed table and the ratio table, from the rows of one run. */
import type { LoadReport } from '../load/report.js';
import { DEFAULT_GROUP, type Scenario, type ScenarioKind } from '../scenario.js';

export interface MeasuredRow {
  readonly scenario: string;
  readonly kind: ScenarioKind;
  readonly client: string;
  readonly result: LoadReport;
}

export interface FailedRow {
  readonly scenario: string;
  readonly kind: ScenarioKind;
  readonly inFlight: number;
  /** Why there are no figures: skipped (not built yet) or failed (an error). */
  readonly status: 'skipped' | 'failed';
  readonly reason: string;
}

export type Row = MeasuredRow | FailedRow;

export function isMeasured(row: Row): row is MeasuredRow {
  return (row as MeasuredRow).result !== undefined;
}

export interface Ratio {
  readonly troupe: string;
  readonly peer: string;
  readonly inFlight: number;
  /** Troupe / peer. Above 1 Troupe does more calls per second. */
  readonly callsPerSecond: number;
  /** Troupe / peer. Below 1 Troupe answers faster. */
  readonly p50: number;
  readonly p99: number;
  /** Troupe / peer in calls per CPU-second of each row's own processes (0 where CPU was not measured). */
  readonly perCpuSecond: number;
  /** The calls/s ratio the Troupe row should reach over this peer (Scenario.targets), if any. */
  readonly target?: number;
}

/**
 * Troupe rows divided by the peer rows of the same group and in-flight level
 * (Troupe on Hazelcast is not divided by an in-memory peer), in the order of
 * the rows.
 */
export function ratios(rows: readonly Row[], scenarios: readonly Scenario[]): Ratio[] {
  const byName = new Map(scenarios.map((s) => [s.name, s]));
  const group = (r: Row): string => byName.get(r.scenario)?.group ?? DEFAULT_GROUP;
  const measured = rows.filter(isMeasured);
  const out: Ratio[] = [];
  for (const t of measured.filter((r) => r.kind === 'troupe')) {
    const targets = byName.get(t.scenario)?.targets ?? {};
    const baseline = byName.get(t.scenario)?.baseline;
    const divisors = measured.filter((r) => r.result.inFlight === t.result.inFlight && ((r.kind === 'peer' && group(r) === group(t)) || r.scenario === baseline));
    for (const p of divisors) {
      const div = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);
      const target = t.result.inFlight > 1 ? targets[p.scenario] : undefined;
      out.push({
        troupe: t.scenario,
        peer: p.scenario,
        inFlight: t.result.inFlight,
        callsPerSecond: div(t.result.callsPerSecond, p.result.callsPerSecond),
        p50: div(t.result.latencyUs.p50, p.result.latencyUs.p50),
        p99: div(t.result.latencyUs.p99, p.result.latencyUs.p99),
        perCpuSecond: div(callsPerCpuSecond(t.result.callsPerSecond, t.result.cpu) ?? 0, callsPerCpuSecond(p.result.callsPerSecond, p.result.cpu) ?? 0),
        ...(target === undefined ? {} : { target }),
      });
    }
  }
  return out;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const us = (n: number): string => (n >= 100 ? int(n) : n.toFixed(1));
const x = (n: number): string => (n > 0 ? `${n.toFixed(2)}x` : 'n/a');

function table(header: readonly string[], body: readonly (readonly string[])[], leftColumns: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const pct = (n: number | undefined): string => (n === undefined ? '?' : `${n}%`);

/**
 * The main table. Rows without figures show a marker; their reasons follow
 * the table as numbered notes, so one long reason does not widen every row.
 */
export function formatRows(rows: readonly Row[]): string {
  const notes: string[] = [];
  const note = (text: string): string => {
    notes.push(text);
    return `[${notes.length}]`;
  };
  const body = rows.map((r) => {
    if (!isMeasured(r)) {
      const reason = r.reason.split('\n')[0];
      const previous = notes.indexOf(`${r.scenario} ${r.status}: ${reason}`);
      const mark = previous >= 0 ? `[${previous + 1}]` : note(`${r.scenario} ${r.status}: ${reason}`);
      return [r.scenario, '-', String(r.inFlight), `${r.status} ${mark}`, '', '', '', '', '', '', ''];
    }
    const { result } = r;
    const errors = result.errors === 0 ? '0' : `${result.errors} ${note(`${r.scenario}: ${result.firstError ?? 'error'}`)}`;
    return [
      r.scenario,
      r.client,
      String(result.inFlight),
      int(result.callsPerSecond),
      us(result.latencyUs.p50),
      us(result.latencyUs.p99),
      errors,
      pct(result.cpu?.client),
      pct(result.cpu?.servers),
      pct(result.cpu?.other),
      perCpuSecond(result.callsPerSecond, result.cpu),
    ];
  });
  const head = ['scenario', 'client', 'in flight', 'calls/s', 'p50 µs', 'p99 µs', 'errors', 'client CPU', 'server CPU', 'other CPU', 'calls/CPU-s'];
  const lines = [table(head, body, 2)];
  if (notes.length > 0) lines.push('', ...notes.map((n, i) => `[${i + 1}] ${n}`));
  return lines.join('\n');
}

/**
 * Calls per CPU-second of the row's own processes (client + servers): how
 * much work a core buys, apart from how many cores the machine has or how
 * busy the rest of it was.
 */
export function callsPerCpuSecond(callsPerSecond: number, cpu: { client: number; servers: number } | null | undefined): number | null {
  if (cpu == null) return null;
  const cores = (cpu.client + cpu.servers) / 100;
  return cores > 0 ? callsPerSecond / cores : null;
}

function perCpuSecond(callsPerSecond: number, cpu: { client: number; servers: number } | null | undefined): string {
  const v = callsPerCpuSecond(callsPerSecond, cpu);
  return v === null ? '-' : int(v);
}

function targetCell(r: Ratio): string {
  if (r.target === undefined) return '';
  const goal = `>= ${r.target.toFixed(r.target < 1 ? 2 : 1)}x`;
  return `${goal} ${r.callsPerSecond >= r.target ? 'met' : 'BELOW'}`;
}

export function formatRatios(list: readonly Ratio[]): string {
  if (list.length === 0) return 'Troupe / peer: no ratios; they need a measured Troupe row and peer row of the same group at the same in-flight level.';
  const body = list.map((r) => [`${r.troupe} / ${r.peer}`, String(r.inFlight), x(r.callsPerSecond), targetCell(r), x(r.p50), x(r.p99), x(r.perCpuSecond)]);
  return [
    'Troupe / peer: each Troupe row over the peers of its group, in-memory or Hazelcast (calls/s above 1x: Troupe does more; latency below 1x: Troupe answers faster)',
    table(['ratio', 'in flight', 'calls/s', 'calls/s target', 'p50', 'p99', 'calls/CPU-s'], body, 1),
    ...formatTargets(list),
  ].join('\n');
}

/** The targeted ratios once more, one line per pair, so a reader finds the verdict without scanning the table. */
function formatTargets(list: readonly Ratio[]): string[] {
  const pairs = new Map<string, Ratio[]>();
  for (const r of list) {
    if (r.target === undefined) continue;
    const key = `${r.troupe} / ${r.peer}`;
    pairs.set(key, [...(pairs.get(key) ?? []), r]);
  }
  if (pairs.size === 0) return [];
  const lines = [...pairs].map(([pair, rs]) =>
    `  ${pair}, calls/s, target >= ${rs[0]!.target}x: ${rs.map((r) => `${x(r.callsPerSecond)} at ${r.inFlight} in flight (${r.callsPerSecond >= r.target! ? 'met' : 'BELOW'})`).join(', ')}`);
  return ['', 'Targets:', ...lines];
}
