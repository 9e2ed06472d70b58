/**
 * `troupe call Type key method [args...]`: one call against a running node,
 * over its HTTP API (the CLI is part of the runtime, which never imports the
 * client SDK). Prints the result as indented JSON on stdout; an error as
 * `CODE: message` on stderr. The exit code says how it went, for scripts.
 */
import { parseOptions, UsageError } from './parse-options.js';

/** Exit codes of `troupe call`. */
export const CALL_EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

export const CALL_USAGE = `usage: troupe call <Type> <key> <method> [args...] [options]

Calls one actor method on a running node (POST /v1/actors/Type/key/method)
and prints the result as indented JSON.

Each argument is read as JSON when it parses (5, true, null, "5", {"a":1},
[1,2]) and as a plain string otherwise (Ada).

options:
  --url URL          the node: http://host:port or ws://host:port/v1/ws
                     (default: $TROUPE_URL, else http://127.0.0.1:7070)
  --args JSON        all arguments as one JSON array, instead of positional ones
  --idem KEY         idempotency key: the call is applied at most once
  --timeout MS       the call's deadline (X-Troupe-Timeout)
  --json             print the node's answer as it came ({"value":...} or
                     {"code":...,"message":...}) on stdout, for scripts
  -h, --help         this help

environment:
  TROUPE_TOKEN       a JWT for nodes started with TROUPE_AUTH_SECRET (never a flag: flags show in ps)

exit codes: 0 the call returned, 1 the node answered an error (E_ACTOR_FAILED, ...),
            2 bad usage, 3 the node could not be reached

examples:
  troupe call Counter c1 add 5
  troupe call Greeter hall greet Ada --url http://127.0.0.1:7071
  troupe call Account alice deposit 100 --idem deposit-42
  troupe call Room lobby post '{"user":"ann","text":"hi"}'
  troupe call Counter c1 get --json | jq .value`;

const OPTIONS = {
  url: { type: 'string' },
  args: { type: 'string' },
  idem: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface CallRequest {
  readonly base: string;
  readonly type: string;
  readonly key: string;
  readonly method: string;
  readonly args: unknown[];
  readonly idem: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly raw: boolean;
}

/** One argument: JSON when it parses, else the text itself. */
export function readArgument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** http://host:port from a node address in either form. */
export function httpBase(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--url must be a URL such as http://127.0.0.1:7070, got '${url}'`);
  }
  if (u.protocol === 'ws:' || u.protocol === 'wss:') u.protocol = u.protocol === 'ws:' ? 'http:' : 'https:';
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--url must be http(s):// or ws(s)://, got '${url}'`);
  return `${u.protocol}//${u.host}`;
}

function parseCall(argv: readonly string[], env: NodeJS.ProcessEnv): CallRequest | 'help' {
  const { values: v, positionals } = parseOptions(argv, OPTIONS);
  if (v.help === true) return 'help';
  const [type, key, method, ...rest] = positionals;
  if (type === undefined || key === undefined || method === undefined) throw new UsageError('troupe call needs an actor type, a key and a method: troupe call Counter c1 add 5');
  let args: unknown[] = rest.map(readArgument);
  if (v.args !== undefined) {
    if (rest.length > 0) throw new UsageError('give the arguments either positionally or with --args, not both');
    const parsed = readArgument(v.args);
    if (!Array.isArray(parsed)) throw new UsageError(`--args must be a JSON array, got '${v.args}'`);
    args = parsed;
  }
  let timeoutMs: number | undefined;
  if (v.timeout !== undefined) {
    timeoutMs = Number(v.timeout);
    if (!/^\d+$/.test(v.timeout) || timeoutMs < 1 || timeoutMs > 3_600_000) throw new UsageError(`--timeout must be milliseconds between 1 and 3600000, got '${v.timeout}'`);
  }
  return { base: httpBase(v.url ?? env.TROUPE_URL ?? 'http://127.0.0.1:7070'), type, key, method, args, idem: v.idem, timeoutMs, raw: v.json === true };
}

export async function callCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let req: CallRequest | 'help';
  try {
    req = parseCall(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`troupe call: ${err.message} (see troupe call --help)\n`);
    return CALL_EXIT.usage;
  }
  if (req === 'help') {
    process.stdout.write(`${CALL_USAGE}\n`);
    return CALL_EXIT.ok;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (req.idem !== undefined) headers['idempotency-key'] = req.idem;
  if (req.timeoutMs !== undefined) headers['x-troupe-timeout'] = String(req.timeoutMs);
  if (env.TROUPE_TOKEN !== undefined && env.TROUPE_TOKEN !== '') headers.authorization = `Bearer ${env.TROUPE_TOKEN}`;
  const url = `${req.base}/v1/actors/${encodeURIComponent(req.type)}/${encodeURIComponent(req.key)}/${encodeURIComponent(req.method)}`;
  let status: number;
  let text: string;
  try {
    // The node answers within the call's deadline; the extra seconds only bound a node that stopped answering at all.
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(req.args), signal: AbortSignal.timeout((req.timeoutMs ?? 10_000) + 5_000) });
    status = res.status;
    text = await res.text();
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    process.stderr.write(`troupe call: cannot reach a node at ${req.base} (${cause?.code ?? cause?.message ?? (err as Error).message}); is one running? (--url)\n`);
    return CALL_EXIT.unreachable;
  }
  let body: { value?: unknown; code?: string; message?: string };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    process.stderr.write(`troupe call: ${req.base} answered HTTP ${status} with something other than JSON; is it a Troupe node?\n`);
    return CALL_EXIT.unreachable;
  }
  if (req.raw) process.stdout.write(`${text}\n`);
  if (status === 200 && 'value' in body) {
    if (!req.raw) process.stdout.write(`${JSON.stringify(body.value, null, 2)}\n`);
    return CALL_EXIT.ok;
  }
  process.stderr.write(`${body.code ?? `HTTP ${status}`}: ${body.message ?? text}\n`);
  return CALL_EXIT.failed;
}
