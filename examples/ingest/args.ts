/** The ingest example's flags, checked where they enter: a bad one stops the script with one line. */

function fail(message: string): never {
  console.error(`ingest: ${message}`);
  process.exit(2);
}

function pairs(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (!flag.startsWith('--') || value === undefined) fail(`expected --flag value pairs, got ${JSON.stringify(argv.slice(i).join(' '))}`);
    out.set(flag.slice(2), value);
  }
  return out;
}

function positive(m: Map<string, string>, name: string, fallback: number): number {
  const raw = m.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

export interface IngestArgs {
  readonly brokers: string[];
  readonly topic: string;
  readonly count: number;
  readonly accounts: number;
  readonly expected: string;
}

export function ingestArgs(argv: readonly string[], defaults: { count: number; accounts: number; expected: string }): IngestArgs {
  const m = pairs(argv);
  for (const k of m.keys()) if (!['brokers', 'topic', 'count', 'accounts', 'expected'].includes(k)) fail(`unknown flag --${k} (flags: --brokers --topic --count --accounts --expected)`);
  const brokers = (m.get('brokers') ?? '').split(',').filter((b) => b !== '');
  if (brokers.length === 0) fail('--brokers host:port[,host:port...] is required');
  const topic = m.get('topic') ?? fail('--topic is required');
  return { brokers, topic, count: positive(m, 'count', defaults.count), accounts: positive(m, 'accounts', defaults.accounts), expected: m.get('expected') ?? defaults.expected };
}

export interface CheckArgs {
  readonly url: string;
  readonly expected: string;
  readonly waitSeconds: number;
}

export function checkArgs(argv: readonly string[]): CheckArgs {
  const m = pairs(argv);
  for (const k of m.keys()) if (!['url', 'expected', 'wait'].includes(k)) fail(`unknown flag --${k} (flags: --url --expected --wait)`);
  return { url: m.get('url') ?? 'ws://127.0.0.1:7070/v1/ws', expected: m.get('expected') ?? 'expected.json', waitSeconds: positive(m, 'wait', 120) };
}
