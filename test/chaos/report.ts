/** The chaos run's summary: lines for people, then one JSON line for tools. */
import type { ChaosReport } from './run.js';

export function formatReport(r: ChaosReport): string {
  const t = r.transfers;
  const codes = Object.entries(t.clientErrorsByCode).map(([c, n]) => `${c} ${n}`).join(', ') || 'none';
  const lines = [
    `chaos run: ${r.ok ? 'PASS' : 'FAIL'} (seed ${r.seed}, ${r.seconds} s of load, ${(r.durationMs / 1000).toFixed(1)} s in all)`,
    `  transfers started      ${t.started}`,
    `  client saw             ${t.clientCompleted} completed, ${t.clientFailed} failed, ${t.clientErrors} errors (${codes})`,
    `  final outcomes         ${t.finalCompleted} completed, ${t.finalFailed} failed (${t.failedIntoClosed} into a closed account: the deposit fails, a withdrawal made is undone), ${t.unresolved} unresolved`,
    `  chaos                  ${r.chaos.kills} kills (SIGKILL), ${r.chaos.restarts} restarts, ${r.chaos.restartFailures} failed restarts`,
    `  sagas                  ${r.sagas.resumedByNodes} resumes by the nodes (${r.sagas.resumeFailures} failed), ${r.sagas.journalAtSettleStart} journal entries when the load stopped, ${r.sagas.journalAfterSettle} left after ${r.sagas.settleMs} ms of settling`,
    `  money                  ${r.money.finalTotal ?? 'unreadable'} of ${r.money.initialTotal} (${r.money.finalTotal === r.money.initialTotal ? 'unchanged' : 'CHANGED'})`,
    `  violations             ${r.violations.length === 0 ? 'none' : Object.entries(r.violationCounts).map(([k, n]) => `${k} ${n}`).join(', ')}`,
  ];
  for (const v of r.violations) lines.push(`    ${v.kind}: ${v.detail}`);
  lines.push(`  node logs              ${r.logDir}`);
  return lines.join('\n');
}

/** One line of JSON (chaos events left out: they are in the progress lines). */
export function reportJson(r: ChaosReport): string {
  const { chaos, ...rest } = r;
  return JSON.stringify({ event: 'chaos_summary', ...rest, chaos: { kills: chaos.kills, restarts: chaos.restarts, restartFailures: chaos.restartFailures } });
}
