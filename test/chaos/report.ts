/** The chaos run's summary: lines for people, then one JSON line for tools. */
import type { ChaosReport } from './run.js';

export function formatReport(r: ChaosReport): string {
  const t = r.transfers;
  const c = r.counters;
  const codes = Object.entries(t.clientErrorsByCode).map(([c, n]) => `${c} ${n}`).join(', ') || 'none';
  const lines = [
    `chaos run: ${r.ok ? 'PASS' : 'FAIL'} (seed ${r.seed}, ${r.seconds} s of load, ${(r.durationMs / 1000).toFixed(1)} s in all)`,
    `  transfers started      ${t.started}`,
    `  client saw             ${t.clientCompleted} completed, ${t.clientFailed} failed, ${t.clientErrors} errors (${codes})`,
    `  final outcomes         ${t.finalCompleted} completed, ${t.finalFailed} failed (${t.failedIntoClosed} into a closed account: the deposit fails, a withdrawal made is undone), ${t.unresolved} unresolved`,
    `  faults                 ${r.chaos.faults.map((f) => `${f} ${r.chaos.injected[f]}`).join(', ')}; ${r.chaos.restartFailures} failed restarts (${r.chaos.topology} topology, ${r.chaos.members} Hazelcast member(s))`,
    `  sagas                  ${r.sagas.resumedByNodes} resumes by the nodes (${r.sagas.resumeFailures} failed), ${r.sagas.journalAtSettleStart} journal entries when the load stopped, ${r.sagas.journalAfterSettle} left after ${r.sagas.settleMs} ms of settling`,
    `  money                  ${r.money.finalTotal ?? 'unreadable'} of ${r.money.initialTotal} (${r.money.finalTotal === r.money.initialTotal ? 'unchanged' : 'CHANGED'})`,
    `  relays                 ${r.relays.acked} acknowledged (${r.relays.resent} re-sends), ${r.relays.unacknowledged} never acknowledged, over ${r.relays.counters} counters; outboxes drained ${r.relays.outboxDrainMs} ms after the load`,
    `  reminders              ${r.reminders.scheduled} scheduled, ${r.reminders.cancelled} cancelled in time, ${r.reminders.fired} fired; lateness p50 ${r.reminders.latenessP50 ?? '-'} ms, p99 ${r.reminders.latenessP99 ?? '-'} ms, max ${r.reminders.latenessMax ?? '-'} ms; ${r.reminders.seenLate} seen only after the first read`,
    `  counters               ${c.adds} adds over ${c.keys} keys (${c.acked} acknowledged, ${c.unknown} unanswered, ${c.resent} re-sends), ${c.reads} reads (${c.readErrors} failed)`,
    `  read staleness         ${c.staleReads} stale reads; max ${c.stalenessMax ?? '-'} ms, p99 ${c.stalenessP99 ?? '-'} ms (read lease ${c.readLeaseMs} ms)`,
    `  operations             transfers ${t.started}, relays ${r.relays.acked + r.relays.unacknowledged}, reminders ${r.reminders.scheduled + r.reminders.cancelled}, counter adds ${c.adds}, counter reads ${c.reads + c.readErrors}`,
    `  violations             ${r.violations.length === 0 ? 'none' : Object.entries(r.violationCounts).map(([k, n]) => `${k} ${n}`).join(', ')}`,
  ];
  // The first few of each kind: a broken run can have thousands, and the kinds say what broke.
  const shown = new Map<string, number>();
  for (const v of r.violations) {
    const n = (shown.get(v.kind) ?? 0) + 1;
    shown.set(v.kind, n);
    if (n <= 10) lines.push(`    ${v.kind}: ${v.detail}`);
  }
  lines.push(`  node logs              ${r.logDir}`);
  return lines.join('\n');
}

/** One line of JSON (chaos events left out: they are in the progress lines). */
export function reportJson(r: ChaosReport): string {
  const { chaos, ...rest } = r;
  const { events, ...counts } = chaos;
  return JSON.stringify({ event: 'chaos_summary', ...rest, violations: rest.violations.slice(0, 50), chaos: { ...counts, events: events.length } });
}
