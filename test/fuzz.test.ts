/**
 * Random and mutated frames against a running gateway, for a bounded time:
 * the node never crashes, every frame that asks for something gets an answer,
 * the connection stays usable, and memory stays flat.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';
import { RawClient } from './fixtures/raw-client.js';

const packr = new Packr({ useRecords: false });
const FUZZ_MS = Number(process.env.TROUPE_FUZZ_MS ?? 6000);
const RUNS = Number(process.env.TROUPE_FUZZ_RUNS ?? 400);

let node: TroupeNode;
let client: RawClient;
before(async () => {
  node = await startNode(['--max-frame', String(64 * 1024), '--max-batch', '64']);
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
