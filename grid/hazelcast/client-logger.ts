import { type ILogger, LogLevel } from 'hazelcast-client';

/**
 * hazelcast-client's log lines as structured JSON on stderr, one event per
 * line like the rest of Troupe, instead of the client's own console format.
 * Only the message and the error's message go out: `furtherInfo` can hold
 * whole request objects.
 */
export function jsonClientLogger(level: keyof typeof LogLevel, clusterName: string): ILogger {
  const threshold = LogLevel[level];
  const names = ['error', 'warn', 'info', 'debug', 'trace'] as const;
  const log = (lvl: LogLevel, objectName: string, message: string, furtherInfo?: unknown): void => {
    if (threshold === LogLevel.OFF || lvl > threshold) return;
    const line: Record<string, unknown> = {
      ts: new Date().toISOString(),
      level: (names as readonly string[])[lvl] ?? 'info',
      component: 'grid.hazelcast',
      cluster: clusterName,
      source: objectName,
      msg: message,
    };
    if (furtherInfo instanceof Error) line.error = furtherInfo.message;
    process.stderr.write(`${JSON.stringify(line)}\n`);
  };
  return {
    log,
    error: (o, m, f) => log(LogLevel.ERROR, o, m, f),
    warn: (o, m, f) => log(LogLevel.WARN, o, m, f),
    info: (o, m, f) => log(LogLevel.INFO, o, m, f),
    debug: (o, m, f) => log(LogLevel.DEBUG, o, m, f),
    trace: (o, m, f) => log(LogLevel.TRACE, o, m, f),
  };
}
