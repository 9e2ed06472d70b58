/** Structured logs: one JSON line per event, with the node id; never secrets or message payloads. */
import { traceIdOf } from '../protocol/traceparent.js';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  log(level: Exclude<LogLevel, 'silent'>, event: string, fields?: Record<string, unknown>): void;
}

export function createLogger(nodeId: string, level: LogLevel, write: (line: string) => void = (l) => process.stdout.write(l + '\n')): Logger {
  const min = RANK[level];
  return {
    log(lvl, event, fields) {
      if (RANK[lvl] < min) return;
      write(JSON.stringify({ t: new Date().toISOString(), level: lvl, node: nodeId, event, ...fields }));
    },
  };
}

/**
 * Trace fields for a log line about calls: `traceId` when they share one
 * trace, `traceIds` when they are in several, nothing when none is traced.
 * Call-related events (a failed task, a stuck turn, an undeliverable tell)
 * take these, so a log line can be found from a trace and back.
 */
export function traceFields(traceparents: Iterable<string | null | undefined>): { traceId?: string; traceIds?: string[] } {
  let first: string | null = null;
  let more: Set<string> | null = null;
  for (const tp of traceparents) {
    if (tp == null) continue;
    const id = traceIdOf(tp);
    if (first === null) first = id;
    else if (id !== first) (more ??= new Set([first])).add(id);
  }
  if (more !== null) return { traceIds: [...more] };
  return first === null ? {} : { traceId: first };
}
