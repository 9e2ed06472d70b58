/** How the durable-tier tests print what a crash of the whole grid did. */
import type { CrashAllReport } from './crash-all.js';

/**
 * Write-behind's stated recovery point (README "Durability"): a change is
 * stored within write-delay-seconds (1) plus one pass of the write-behind
 * worker (every 1 s) plus the batch itself; so a crash of every member at
 * once loses at most the last 3 s of acknowledged writes, at rates the
 * database keeps up with.
 */
export const WRITE_BEHIND_RPO_MS = 3_000;

export function describeReport(r: CrashAllReport): string[] {
  const c = r.counters;
  return [
    `${r.mode}: grid down ${r.gridDownMs} ms (kill -9 of 3 members → cluster formed again), run ${Math.round(r.durationMs / 1000)} s`,
    `counters: ${c.acked} increments acknowledged on ${c.keys} keys before the kill; lost ${c.lostAcks} on ${c.keysWithLoss} keys (${c.keysMissing} records absent), oldest lost ${c.oldestLostAgeMs ?? '-'} ms before the kill; ${c.phaseTwoAcked} more after the restart`,
    `transfers: ${r.transfers.started} started, ${r.transfers.completedBeforeCrash} completed before the kill, ${r.transfers.completed} completed in the end; money ${r.money.initial} → ${r.money.final}`,
    `violations: ${r.violations.length === 0 ? 'none' : r.violations.slice(0, 5).map((v) => `${v.kind}: ${v.detail}`).join(' | ')}`,
  ];
}
