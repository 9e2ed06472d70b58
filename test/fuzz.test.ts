/**
 * Random and mutated frames against a running gateway, for a bounded time:
 * the node never crashes, every frame that asks for something gets an answer,
 * the connection stays usable, and memory stays flat. Then structure-aware
 * payloads aimed at the edge's limits (depth, width, huge identifiers and
 * strings, msgpack extensions, lying headers) over WebSocket binary and text
 * and HTTP, while legitimate calls from another connection keep succeeding.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';
import { RawClient } from './fixtures/raw-client.js';
import { callBytes, callText, hostileArg, identifierLength, nestedBytes, nestedText, type HostileArg } from './fixtures/hostile.js';

const packr = new Packr({ useRecords: false });
const FUZZ_MS = Number(process.env.TROUPE_FUZZ_MS ?? 6000);
const RUNS = Number(process.env.TROUPE_FUZZ_RUNS ?? 400);

const MAX_FRAME = 64 * 1024;
let node: TroupeNode;
let client: RawClient;
before(async () => {
  node = await startNode(['--max-frame', String(MAX_FRAME), '--max-batch', '64']);
  client = await RawClient.connect(node.port);
});
after(async () => {
  client.close();
  await node.stop();
});

const names = fc.constantFrom('Counter', 'Log', 'Room', 'Account', 'Nope', '', '__proto__', 'constructor');
const methods = fc.constantFrom('add', 'get', 'append', 'items', 'post', 'deposit', 'withdraw', 'secret', '_underscored', 'constructor', 'toString', '');
const message = fc.record(
  {
    op: fc.oneof(fc.constantFrom('call', 'tell', 'sub', 'unsub'), fc.string(), fc.integer()),
    id: fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.constant(null), fc.double()),
    actor: fc.oneof(names, fc.anything()),
    key: fc.oneof(fc.string({ maxLength: 30 }), fc.anything()),
    method: fc.oneof(methods, fc.anything()),
    args: fc.oneof(fc.array(fc.anything(), { maxLength: 4 }), fc.anything()),
    idem: fc.oneof(fc.string({ maxLength: 10 }), fc.anything()),
    timeout: fc.oneof(fc.integer({ min: -5, max: 5000 }), fc.anything()),
    topic: fc.oneof(fc.string({ maxLength: 20 }), fc.anything()),
  },
  { requiredKeys: [] },
);
const value = fc.oneof(message, fc.array(message, { maxLength: 8 }), fc.anything());

/** A frame: msgpack of a random value, a valid call with bytes flipped, random bytes, or random text. */
const frame = fc.oneof(
  value.map((v) => ({ binary: true, bytes: safePack(v) })),
  fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 })).map(([n, flips]) => {
    const bytes = packr.pack({ op: 'call', id: n, actor: 'Counter', key: `fz${n % 7}`, method: 'add', args: [1] });
    const out = Uint8Array.from(bytes);
    for (const [at, b] of flips) out[at % out.length] = b;
    return { binary: true, bytes: out };
  }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ binary: true, bytes })),
  fc.string({ maxLength: 300 }).map((text) => ({ binary: false, bytes: new TextEncoder().encode(text) })),
  value.map((v) => ({ binary: false, bytes: new TextEncoder().encode(safeJson(v)) })),
);

function safePack(v: unknown): Uint8Array {
  try {
    return Uint8Array.from(packr.pack(v));
  } catch {
    return Uint8Array.from([0xc1]);
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? 'null';
  } catch {
    return '{';
  }
}

let probe = 0;

function isSilent(f: { binary: boolean; bytes: Uint8Array }): boolean {
  let v: unknown;
  try {
    v = f.binary ? packr.unpack(f.bytes) : JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(f.bytes));
  } catch {
    return false;
  }
  const tell = (m: unknown): boolean => m !== null && typeof m === 'object' && !Array.isArray(m) && (m as { op?: unknown }).op === 'tell';
  return Array.isArray(v) ? v.length <= 64 && v.every(tell) : tell(v);
}

test('fuzzed frames never crash the node or spoil the connection, and memory stays flat', async () => {
  // Warm up so the baseline includes the pool, caches and JIT.
  for (let i = 0; i < 50; i++) await client.call('Counter', `warm-${i % 5}`, 'add', [1]);
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = Date.now();
  let frames = 0;
  await fc.assert(
    fc.asyncProperty(frame, async (f) => {
      if (Date.now() - started > FUZZ_MS) return;
      frames++;
      const before = client.received.length;
      if (f.binary) client.sendBytes(f.bytes);
      else client.ws.send(Buffer.from(f.bytes).toString('utf8'), { binary: false });
      // A probe after every frame: answered means the node is alive and the socket usable.
      const id = `probe-${++probe}`;
      client.sendBinary({ op: 'call', id, actor: 'Counter', key: 'probe', method: 'get', args: [] });
      const answer = await client.reply(id, 10_000);
      assert.equal(answer.op, 'result');
      const answers = client.received.slice(before);
      // Whatever came back for the fuzz frame is a well-formed server message.
      for (const m of answers) assert.ok(['result', 'error', 'event'].includes(m.op as string), JSON.stringify(m));
      for (const m of answers) if (m.op === 'error') assert.match(String(m.code), /^E_[A-Z_]+$/);
      // A frame is silent only when it holds nothing but tells (or an empty batch): everything else is answered.
      if (!isSilent(f)) assert.ok(answers.length > 0, 'the frame got no answer');
      // Trim what we keep, so the test's own memory does not grow.
      client.received.length = 0;
    }),
    { numRuns: RUNS, interruptAfterTimeLimit: FUZZ_MS + 2000 },
  );
  assert.ok(frames > 50, `only ${frames} frames in ${FUZZ_MS} ms`);
  await new Promise((r) => setTimeout(r, 200));
  globalThis.gc?.();
  const grown = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(grown < 32 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(1)} MiB over ${frames} fuzzed frames`);
  assert.equal(client.closeInfo, null, 'the connection stayed open');
});

test('a garbage frame with no id still gets an E_BAD_REQUEST', async () => {
  client.sendBytes(Uint8Array.from([0x92, 0x01]));
  const err = await client.waitFor((m) => m.op === 'error' && m.id === null);
  assert.equal(err.code, 'E_BAD_REQUEST');
});

/** Counter.add(1) on a connection of its own, one call at a time, until stopped (or 20,000 calls): every one must succeed. */
async function steadyStream(port: number, key: string): Promise<{ stop(): Promise<{ calls: number; failures: unknown[]; total: unknown }> }> {
  const c = await RawClient.connect(port);
  let stopped = false;
  let calls = 0;
  const failures: unknown[] = [];
  const loop = (async () => {
    while (!stopped && calls < 20_000) {
      calls++;
      try {
        const r = await c.call('Counter', key, 'add', [1]);
        if (r.op !== 'result') failures.push(r);
      } catch (err) {
        failures.push(String(err));
      }
      c.received.length = 0;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      const total = (await c.call('Counter', key, 'get')).value;
      c.close();
      return { calls, failures, total };
    },
  };
}

async function counterBreaker(port: number): Promise<string | undefined> {
  const ready = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as { breakers: Record<string, string> };
  return ready.breakers['actor:Counter'];
}

/** One hostile message among legitimate ones, on one transport. */
const hostileCase = fc.record({
  transport: fc.constantFrom('ws-binary' as const, 'ws-text' as const, 'http' as const),
  arg: hostileArg,
  // Which identifier is blown up, if any, and to what length.
  field: fc.constantFrom('none', 'key', 'idem', 'actor', 'method', 'id', 'topic'),
  length: identifierLength,
  // Legitimate Counter.add calls sharing the frame (WebSocket), before and after the hostile one.
  before: fc.integer({ min: 0, max: 4 }),
  after: fc.integer({ min: 0, max: 4 }),
});
type HostileCase = typeof hostileCase extends fc.Arbitrary<infer T> ? T : never;

let nextId = 1_000_000;

async function hostileOverWebSocket(c: HostileCase, arg: HostileArg, binary: boolean): Promise<void> {
  const id = nextId++;
  const long = 'x'.repeat(c.length);
  const fields: Record<string, unknown> = { op: 'call', id, actor: 'Counter', key: 'fz-hostile', method: 'add' };
  if (c.field !== 'none' && c.field !== 'topic') fields[c.field] = long;
  const legit = (n: number) => Array.from({ length: n }, () => ({ op: 'call', id: nextId++, actor: 'Counter', key: 'fz-legit', method: 'add', args: [1] }));
  // A lying header breaks msgpack at that point: a batch around it could not be split, so it goes alone.
  const [pre, post] = arg.broken === true ? [[], []] : [legit(c.before), legit(c.after)];
  const hostile = c.field === 'topic' ? null : binary ? callBytes(fields, arg.msgpack) : callText(fields, arg.json!);
  const sub = c.field === 'topic' ? { op: 'sub', id, topic: long } : null;
  let frame: Uint8Array | string;
  if (binary) {
    const parts = [...pre.map((m) => packr.pack(m)), sub === null ? hostile as Uint8Array : packr.pack(sub), ...post.map((m) => packr.pack(m))];
    frame = pre.length + post.length === 0 ? parts[0]! : Buffer.concat([Uint8Array.from([0x90 | parts.length]), ...parts]);
  } else {
    const parts = [...pre.map((m) => JSON.stringify(m)), sub === null ? hostile as string : JSON.stringify(sub), ...post.map((m) => JSON.stringify(m))];
    frame = pre.length + post.length === 0 ? parts[0]! : `[${parts.join(',')}]`;
  }
  const size = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
  // Past twice --max-frame uWS closes the socket unread (README): another test's business, not this one's.
  if (size > 2 * MAX_FRAME) return;
  if (typeof frame === 'string') client.sendText(frame);
  else client.sendBytes(frame);
  const what = `${binary ? 'binary' : 'text'} ${arg.what}, ${c.field} ${c.field === 'none' ? '' : c.length}, ${pre.length}+${post.length} legit, ${size} bytes`;
  if (size > MAX_FRAME) {
    // Refused whole, before decoding: one answer, no id.
    const err = await client.waitFor((m) => m.op === 'error' && m.id === null, 10_000);
    assert.equal(err.code, 'E_TOO_LARGE', what);
  } else {
    for (const m of [...pre, ...post]) {
      const r = await client.reply(m.id, 10_000);
      assert.equal(r.op, 'result', `${what}: a legitimate call in its frame got ${JSON.stringify(r)}`);
    }
    // The hostile one is answered under its id (a string id past --max-key cannot be echoed: then under null).
    const expected = c.field !== 'id' ? id : c.length <= 1024 ? long : null;
    const r = expected === null ? await client.waitFor((m) => m.op === 'error' && m.id === null, 10_000) : await client.reply(expected, 10_000);
    assert.ok(r.op === 'result' || /^E_[A-Z_]+$/.test(String(r.code)), what);
    // A sub carries no argument: only its topic's length counts.
    const mustRefuse = c.field === 'topic' ? c.length > 1024 : arg.refused || (c.field !== 'none' && c.length > 1024);
    if (mustRefuse) assert.equal(r.code, 'E_BAD_REQUEST', `${what}: ${String(r.message)}`);
    assert.doesNotMatch(String(r.message), /worker thread|circuit breaker/, what);
  }
}

async function hostileOverHttp(c: HostileCase, arg: HostileArg): Promise<void> {
  const long = 'x'.repeat(c.length);
  const part = (field: string, fallback: string) => encodeURIComponent(c.field === field ? long : fallback);
  const path = `/v1/actors/${part('actor', 'Counter')}/${part('key', 'fz-http')}/${part('method', 'add')}`;
  const headers: Record<string, string> = c.field === 'idem' ? { 'idempotency-key': long } : {};
  const body = arg.json === null ? Buffer.from(arg.msgpack) : `[${arg.json}]`;
  const what = `http ${arg.what}, ${c.field} ${c.field === 'none' ? '' : c.length}`;
  // uWS answers any request head that fits 4096 bytes, and refuses a longer one itself with an HTML
  // 431 before any of our code runs (README, Limits at the edge).
  const headBytes = path.length + (headers['idempotency-key']?.length ?? 0) + 200;
  const mustAnswer = headBytes < 4096;
  let r: Response;
  try {
    r = await fetch(`http://127.0.0.1:${node.port}${path}`, { method: 'POST', body, headers });
  } catch (err) {
    if (mustAnswer) throw new Error(`${what}: no answer (${String(err)})`);
    return;
  }
  if (r.status === 431) {
    assert.ok(headBytes > 4000, `${what}: 431 for a head of about ${headBytes} bytes`);
    return;
  }
  const json = (await r.json()) as { code?: string; message?: string; value?: unknown };
  assert.ok([200, 400, 404, 413, 422].includes(r.status), `${what}: status ${r.status} ${JSON.stringify(json)}`);
  if (r.status !== 200) assert.match(String(json.code), /^E_[A-Z_]+$/, what);
  // A body past --max-frame is refused for its size before anything else is looked at.
  const tooLarge = Buffer.byteLength(body) > MAX_FRAME;
  if (!tooLarge && (arg.refused || (c.field !== 'none' && c.field !== 'id' && c.field !== 'topic' && c.length > 1024))) assert.equal(json.code, 'E_BAD_REQUEST', what);
  assert.doesNotMatch(String(json.message), /worker thread|circuit breaker/, what);
}

test('structure-aware hostile payloads over WebSocket binary, text and HTTP are answered at the edge; Counter.add on another connection keeps succeeding and its breaker stays closed', async (t) => {
  const steady = await steadyStream(node.port, 'steady-fuzz');
  const started = Date.now();
  let cases = 0;
  try {
    await fc.assert(
      fc.asyncProperty(hostileCase, async (c) => {
        if (Date.now() - started > FUZZ_MS) return;
        cases++;
        // Only this case's answers: waits below match on what has arrived, including before this case.
        client.received.length = 0;
        if (c.transport === 'http') await hostileOverHttp(c, c.arg);
        else await hostileOverWebSocket(c, c.arg, c.transport === 'ws-binary' || c.arg.json === null);
        // The connection that sent it is still usable.
        assert.equal((await client.call('Counter', 'fz-probe', 'get')).op, 'result');
        client.received.length = 0;
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: FUZZ_MS + 5000, includeErrorInReport: true },
    );
  } finally {
    const { calls, failures, total } = await steady.stop();
    t.diagnostic(`${cases} hostile cases, ${calls} legitimate calls meanwhile`);
    assert.deepEqual(failures.slice(0, 3), [], `${failures.length} of ${calls} legitimate calls failed`);
    assert.equal(total, calls, 'every legitimate call was applied once');
  }
  assert.ok(cases > 30, `only ${cases} hostile cases in ${FUZZ_MS} ms`);
  assert.equal(await counterBreaker(node.port), 'closed');
  assert.equal(client.closeInfo, null, 'the connection stayed open');
});

test('the attack: calls whose argument is an array nested 100,000 deep, 12 each over HTTP and WebSocket binary and text, are refused at the edge and Counter stays available', async () => {
  // A node with the default limits: such a frame (200 KB) is well within --max-frame.
  const target = await startNode();
  const steady = await steadyStream(target.port, 'steady-attack');
  const ws = await RawClient.connect(target.port);
  const started = Date.now();
  try {
    const body = `[${nestedText(100_000, 'array')}]`;
    for (let i = 0; i < 12; i++) {
      const r = await fetch(`http://127.0.0.1:${target.port}/v1/actors/Counter/attacked/add`, { method: 'POST', body });
      const json = (await r.json()) as { code: string };
      assert.deepEqual([r.status, json.code], [400, 'E_BAD_REQUEST'], `HTTP attack ${i + 1}`);
    }
    const fields = (id: number) => ({ op: 'call', id, actor: 'Counter', key: 'attacked', method: 'add' });
    for (let i = 0; i < 12; i++) ws.sendBytes(callBytes(fields(i), nestedBytes(100_000, 'array')));
    for (let i = 12; i < 24; i++) ws.sendText(callText(fields(i), nestedText(100_000, 'array')));
    const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => ws.reply(i, 10_000)));
    assert.deepEqual(answers.map((a) => a.code), new Array(24).fill('E_BAD_REQUEST'));
    // Legitimate calls right after the attack, on the attacked connection and on another one.
    assert.equal((await ws.call('Counter', 'attacked', 'add', [1])).value, 1);
    const r = await fetch(`http://127.0.0.1:${target.port}/v1/actors/Counter/attacked/add`, { method: 'POST', body: '[1]' });
    assert.deepEqual(await r.json(), { value: 2 });
    assert.equal(await counterBreaker(target.port), 'closed');
    assert.ok(Date.now() - started < 20_000, `the attack took ${Date.now() - started} ms`);
  } finally {
    ws.close();
    const { calls, failures, total } = await steady.stop();
    await target.stop();
    assert.deepEqual(failures.slice(0, 3), [], `${failures.length} of ${calls} legitimate calls failed`);
    assert.equal(total, calls);
  }
});
