/** Structured logs: one JSON line per event, with the node id; never secrets or message payloads. */
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
