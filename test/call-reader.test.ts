/**
 * The gateway's call reader must take a message only when the general path
 * (msgpackr, then parseClientMessage) would make exactly the same call of
 * it, and must take the messages clients really send (else it is dead
 * weight). Checked on hand-picked messages and on 20,000 random ones built
 * from valid and invalid parts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr, Unpackr } from 'msgpackr';
import { CALL, CallReader, TELL } from '../runtime/gateway/call-reader.js';
import { isRejected, parseClientMessage } from '../protocol/wire.js';
import { DEFAULT_LIMITS } from '../protocol/limits.js';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, copyBuffers: true, mapsAsObjects: true });
const MAX_KEY = DEFAULT_LIMITS.maxKey;

/** What the reader made of `bytes`, or null if it declined. */
function read(reader: CallReader, bytes: Uint8Array): Record<string, unknown> | null {
  // In the middle of a larger buffer, as a message of a batch is.
  const framed = new Uint8Array(bytes.length + 7);
  framed.set(bytes, 3);
  if (!reader.read(framed, 3, 3 + bytes.length, MAX_KEY)) return null;
  const op = reader.op === CALL ? 'call' : reader.op === TELL ? 'tell' : '?';
  return { op, ...(op === 'call' ? { id: reader.id } : {}), actor: reader.actor, key: reader.key, method: reader.method, args: reader.args, idem: reader.idem, timeout: reader.timeout };
}

/** What the general path makes of `bytes`: the call's fields, or null when it is not a plain untraced call or tell. */
function general(bytes: Uint8Array): Record<string, unknown> | null {
  const msg = parseClientMessage(unpackr.unpack(bytes), DEFAULT_LIMITS);
  if (isRejected(msg) || (msg.op !== 'call' && msg.op !== 'tell') || msg.traceparent !== undefined) return null;
  return { op: msg.op, ...(msg.op === 'call' ? { id: msg.id } : {}), actor: msg.actor, key: msg.key, method: msg.method, args: msg.args, idem: msg.idem ?? null, timeout: msg.timeout };
}

function agree(reader: CallReader, value: unknown): boolean {
  const bytes = packr.pack(value);
  const fast = read(reader, bytes);
  if (fast === null) return false;
  // As the gateway has it: a plain Uint8Array over the frame (a Buffer would make byte strings decode as Buffers).
  assert.deepStrictEqual(fast, general(new Uint8Array(bytes)), `the reader took ${JSON.stringify(value)} differently`);
  return true;
}

test('takes what the SDK and the bench client send, as the general path reads it', () => {
  const r = new CallReader();
  const sent: unknown[] = [
    { op: 'call', id: 1, actor: 'Counter', key: 'c-1', method: 'add', args: [1], timeout: 30_000 },
    { op: 'call', id: 70_000, actor: 'Counter', key: 'c-1', method: 'add', args: [1], timeout: 30_000, idem: 'sdk-3f2a-17' },
    { op: 'call', id: 2 ** 31 + 5, actor: 'Counter', key: '', method: 'get', args: [], timeout: 1.5 },
    { op: 'call', id: 'req-9', actor: 'Account', key: 'a/b:c', method: 'deposit', args: [-5, 'note', true, null, false] },
    { op: 'call', id: 3, actor: 'Counter', key: 'k', method: 'add', args: [1], timeout: undefined },
    { op: 'tell', actor: 'Counter', key: 'k', method: 'add', args: [2] },
    { op: 'tell', id: 4, actor: 'Counter', key: 'k', method: 'add' },
    { op: 'call', id: 5, actor: 'Counter', key: 'k', method: 'add', args: [{ nested: [1, 2] }, 'é', 2 ** 40, 0.25] },
    { op: 'call', id: 6, actor: 'Counter', key: 'k'.repeat(200), method: 'add', args: Array.from({ length: 40 }, (_, i) => i) },
    { op: 'call', id: -7, actor: 'Counter', key: 'k', method: 'add', args: [-1, -32, -33, 127, 128, 300, 70_000] },
    { op: 'call', id: 8, actor: 'Counter', key: 'k', method: 'add', args: [new Uint8Array([1, 2, 3])] },
  ];
  for (const m of sent) assert.ok(agree(r, m), `declined ${JSON.stringify(m)}`);
  // The same names come from the cache, not decoded anew.
  const a = read(r, packr.pack(sent[0]))!;
  const b = read(r, packr.pack(sent[0]))!;
  assert.equal(a.actor, b.actor);
});

test('declines what it must leave to the general path (which then refuses or handles it)', () => {
  const r = new CallReader();
  const declined: unknown[] = [
    { op: 'sub', id: 1, topic: 't' },
    { op: 'call', actor: 'Counter', key: 'k', method: 'add', args: [] }, // no id
    { op: 'call', id: 1, actor: '', key: 'k', method: 'add' },
    { op: 'call', id: 1, actor: 'Counter', key: 'k', method: '' },
    { op: 'call', id: 1, actor: 'Counter', key: 'k', method: 'add', idem: '~mine' },
    { op: 'call', id: 1, actor: 'Counter', key: 'k', method: 'add', idem: '' },
    { op: 'call', id: 1, actor: 'Counter', key: 'k', method: 'add', timeout: 0 },
    { op: 'call', id: 1, actor: 'Counter', key: 'k', method: 'add', timeout: 3_600_001 },
    { op: 'call', id: 1, actor: 'Counter', key: 'k', method: 'add', timeout: null },
    { op: 'call', id: 1, actor: 'Counter', key: 'k', method: 'add', args: 'no' },
    { op: 'call', id: 1, actor: 'Counter', key: 'k', method: 'add', args: { 0: 1 } },
    { op: 'call', id: NaN, actor: 'Counter', key: 'k', method: 'add' },
    { op: 'call', id: 1, actor: 'Counter', key: 'k', method: 'add', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    { op: 'call', id: 1, actor: 'Counter', key: 'ключ', method: 'add' },
    { op: 'call', id: 1, actor: 'Counter', key: 'k', method: 'add', extra: 1 },
    { op: 'call', id: 1, actor: 'Counter', key: 'k'.repeat(MAX_KEY + 1), method: 'add' },
    { op: 'CALL', id: 1, actor: 'Counter', key: 'k', method: 'add' },
    { op: 'call', id: 1, actor: 7, key: 'k', method: 'add' },
    { op: 'call', id: 1, actor: 'Counter', key: 5, method: 'add' },
    [1, 2],
    'call',
  ];
  for (const m of declined) assert.equal(read(r, packr.pack(m)), null, `took ${JSON.stringify(m)}`);
  // A map naming a field twice (an object keeps the last): declined, whatever the values.
  const twice = Uint8Array.from([0x86, ...packr.pack('op'), ...packr.pack('call'), ...packr.pack('id'), 1, ...packr.pack('actor'), ...packr.pack('A'), ...packr.pack('key'), ...packr.pack('k'), ...packr.pack('method'), ...packr.pack('m'), ...packr.pack('op'), ...packr.pack('tell')]);
  assert.equal(read(r, twice), null);
});

test('20,000 random messages: whatever it takes, the general path reads the same', () => {
  const r = new CallReader();
  // mulberry32: a fixed seed, so a failure repeats.
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
  const strings = ['', 'a', 'Counter', 'add', '~x', 'é', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(300), 'k'.repeat(MAX_KEY), 'k'.repeat(MAX_KEY + 1), 'call', 'tell'];
  const values: unknown[] = [...strings, 0, 1, -1, 127, 128, -33, 65_536, 2 ** 32, 2 ** 53, 1.5, NaN, Infinity, null, true, false, undefined, [], [1], ['a', 2], { a: 1 }, new Uint8Array([9])];
  const fields = ['op', 'id', 'actor', 'key', 'method', 'args', 'idem', 'timeout', 'traceparent', 'topic', 'other'];
  let taken = 0;
  for (let i = 0; i < 20_000; i++) {
    const m: Record<string, unknown> = {};
    if (rand(10) > 0) m.op = rand(5) > 0 ? pick(['call', 'tell']) : pick(values);
    if (rand(10) > 1) m.id = rand(3) > 0 ? rand(100_000) : pick(values);
    for (const f of ['actor', 'key', 'method']) if (rand(12) > 0) m[f] = rand(4) > 0 ? pick(['Counter', 'Account', 'add', 'k-1', 'a']) : pick(values);
    if (rand(3) > 0) m.args = rand(3) > 0 ? Array.from({ length: rand(5) }, () => pick(values)) : pick(values);
    if (rand(4) === 0) m.idem = pick(values);
    if (rand(4) === 0) m.timeout = rand(2) === 0 ? rand(4_000_000) : pick(values);
    if (rand(20) === 0) m[pick(fields)] = pick(values);
    if (agree(r, m)) taken++;
  }
  assert.ok(taken > 2000, `took only ${taken} of 20,000: the generator or the reader is off`);
});
