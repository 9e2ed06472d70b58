/**
 * What `troupe top` shows, as plain lines: one row per node of the
 * dashboard snapshot the node at --url pushes on /dash/ws (the same figures
 * /dash draws, so the two never disagree). No colours or escapes here: the
 * screen decides how the lines reach the terminal.
 */

/** The part of a /dash/ws snapshot (runtime/dashboard/dashboard.ts) that top reads. */
export interface DashSnapshot {
  readonly at: number;
  readonly servedBy: string;
  readonly windowMs: number;
  readonly nodes: readonly DashNode[];
}

export interface DashNode {
  readonly id: string;
  readonly zone: string;
  readonly state: 'up' | 'suspect' | 'down';
  readonly reason: string;
  readonly self: boolean;
  readonly types: Record<string, { calls: number; errors: number; p50: number | null; p99: number | null }>;
  readonly p99?: number | null;
  readonly queued?: number;
  readonly outbox?: { pending: number };
  readonly breakers?: readonly { name: string; state: string }[];
}

/** One node's row, as numbers: what the tests read back from the text too. */
export interface NodeRow {
  readonly id: string;
  readonly state: string;
  readonly callsPerSecond: number;
  readonly errorsPerSecond: number;
  readonly p99Ms: number | null;
  readonly backlog: number | null;
  readonly outbox: number | null;
  readonly breakersOpen: readonly string[];
}

export function nodeRow(n: DashNode): NodeRow {
  let calls = 0;
  let errors = 0;
  let worstP99: number | null = null;
  for (const t of Object.values(n.types)) {
    calls += t.calls;
    errors += t.errors;
    if (t.p99 !== null && (worstP99 === null || t.p99 > worstP99)) worstP99 = t.p99;
  }
  return {
    id: n.id,
    state: n.state,
    callsPerSecond: calls,
    errorsPerSecond: errors,
    // A node of an older version has no p99 of its own: its slowest type's stands in.
    p99Ms: n.p99 !== undefined ? n.p99 : worstP99,
    backlog: n.queued ?? null,
    outbox: n.outbox?.pending ?? null,
    breakersOpen: (n.breakers ?? []).filter((b) => b.state === 'open').map((b) => b.name),
  };
}

const COLUMNS = ['NODE', 'STATE', 'CALLS/S', 'ERR/S', 'P99 MS', 'BACKLOG', 'OUTBOX', 'BREAKERS OPEN'] as const;
/** Numbers line up on the right, words on the left. */
const RIGHT = new Set<string>(['CALLS/S', 'ERR/S', 'P99 MS', 'BACKLOG', 'OUTBOX']);

function rate(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

function ms(x: number | null): string {
  if (x === null) return '-';
  return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2);
}

function cells(r: NodeRow, self: boolean, zone: string): string[] {
  const down = r.state === 'down';
  return [
    `${r.id}${self ? '*' : ''}${zone === '' ? '' : ` (${zone})`}`,
    r.state,
    down ? '-' : rate(r.callsPerSecond),
    down ? '-' : rate(r.errorsPerSecond),
    down ? '-' : ms(r.p99Ms),
    r.backlog === null ? '-' : String(r.backlog),
    r.outbox === null ? '-' : String(r.outbox),
    r.breakersOpen.length === 0 ? (down ? '-' : '0') : `${r.breakersOpen.length} ${r.breakersOpen.join(',')}`,
  ];
}

/** The whole view: a title line, the table, a cluster total, and why any node is not up. */
export function viewLines(s: DashSnapshot, source: string): string[] {
  const rows = s.nodes.map((n) => ({ n, r: nodeRow(n) }));
  const table = [[...COLUMNS], ...rows.map(({ n, r }) => cells(r, n.self, n.zone))];
  const widths = COLUMNS.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = [
    `troupe top  ${source}  served by ${s.servedBy}  ${new Date(s.at).toISOString().replace('T', ' ').slice(0, 19)}Z  rates over ${Math.round(s.windowMs / 1000)} s`,
    ...table.map((row) => row.map((c, i) => (RIGHT.has(COLUMNS[i]!) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()),
  ];
  const up = rows.filter(({ r }) => r.state === 'up').length;
  const total = rows.reduce((sum, { r }) => sum + (r.state === 'down' ? 0 : r.callsPerSecond), 0);
  lines.push(`cluster: ${rows.length} node${rows.length === 1 ? '' : 's'}, ${up} up, ${rate(total)} calls/s`);
  for (const { n } of rows) if (n.state !== 'up' && n.reason !== '') lines.push(`  ${n.id} ${n.state}: ${n.reason}`);
  return lines;
}
