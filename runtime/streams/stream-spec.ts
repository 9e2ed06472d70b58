/**
 * The `--stream` setting: which external stream a node reads, and which actor
 * method each record becomes.
 *
 *   --stream kafka:BROKERS:TOPIC:Type.method
 *   --stream kafka:127.0.0.1:9092,10.0.0.2:9092:payments:Account.deposit
 *
 * BROKERS is a comma-separated `host:port` list (so it holds colons itself:
 * the topic and the target are read from the right, where neither may hold a
 * colon). Several streams are separated by `;`.
 */

/** A `--stream` value that does not parse; the message says what is wrong in one line. */
export class StreamSpecError extends Error {
  readonly code = 'TROUPE_BAD_STREAM';
}

export const STREAM_ENGINES = ['kafka'] as const;
export type StreamEngineName = (typeof STREAM_ENGINES)[number];

export interface StreamSpec {
  readonly engine: StreamEngineName;
  /** `host:port` of each bootstrap broker. */
  readonly brokers: readonly string[];
  readonly topic: string;
  /** Actor type each record is a call to (the record's key is the actor's key). */
  readonly type: string;
  readonly method: string;
}

export const STREAM_FORM = 'kafka:BROKERS:TOPIC:Type.method';

// Kafka's own rule for topic names: letters, digits, '.', '_', '-', at most 249.
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const IDENT = /^[A-Za-z_$][\w$]*$/;
const BROKER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

export function parseStreamSpec(raw: string): StreamSpec {
  const value = raw.trim();
  const bad = (why: string): StreamSpecError => new StreamSpecError(`'${value}' is not ${STREAM_FORM}: ${why}`);
  const engineEnd = value.indexOf(':');
  const engine = engineEnd < 0 ? value : value.slice(0, engineEnd);
  if (!(STREAM_ENGINES as readonly string[]).includes(engine)) throw bad(`the engine must be one of ${STREAM_ENGINES.join(', ')}, got '${engine}'`);
  const rest = value.slice(engineEnd + 1);
  const targetStart = rest.lastIndexOf(':');
  const topicStart = targetStart < 0 ? -1 : rest.lastIndexOf(':', targetStart - 1);
  if (topicStart < 0) throw bad('it needs brokers, a topic and Type.method, separated by colons');
  const brokers = rest.slice(0, topicStart).split(',').map((b) => b.trim()).filter((b) => b !== '');
  const topic = rest.slice(topicStart + 1, targetStart);
  const target = rest.slice(targetStart + 1);
  if (brokers.length === 0) throw bad('no brokers given');
  for (const b of brokers) {
    const m = BROKER.exec(b);
    if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535) throw bad(`broker '${b}' is not host:port`);
  }
  if (!TOPIC.test(topic)) throw bad(`topic '${topic}' is not a Kafka topic name (letters, digits, '.', '_', '-')`);
  const dot = target.indexOf('.');
  const type = dot < 0 ? '' : target.slice(0, dot);
  const method = dot < 0 ? '' : target.slice(dot + 1);
  if (!IDENT.test(type) || !IDENT.test(method)) throw bad(`'${target}' is not Type.method`);
  return Object.freeze({ engine: engine as StreamEngineName, brokers: Object.freeze(brokers), topic, type, method });
}

/** `;`-separated streams; an empty value is none. */
export function parseStreamSpecs(raw: string): StreamSpec[] {
  const specs = raw.split(';').map((s) => s.trim()).filter((s) => s !== '').map(parseStreamSpec);
  const seen = new Set<string>();
  for (const s of specs) {
    const id = `${s.engine}:${s.topic}`;
    if (seen.has(id)) throw new StreamSpecError(`topic '${s.topic}' is named twice: one stream per topic`);
    seen.add(id);
  }
  return specs;
}
