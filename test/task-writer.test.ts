/**
 * The task writer must produce bytes the worker decodes to exactly what
 * msgpackr's pack of the same tuples decodes to: the worker reads both with
 * one decoder, and a value that came out different (a number's sign, a
 * string, an argument's type) would be a different call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import { TaskWriter } from '../runtime/pool/task-writer.js';
import type { Task, TaskGroup, TurnMessage } from '../runtime/pool/protocol.js';

const packr = new Packr({ useRecords: false, moreTypes: true });

interface Msg { method: string; args: unknown[]; idem: string | null; caller: string | null; turn: number; ack: number; tp: string | null }
interface Grp { id: number; type: string; key: string; data: Uint8Array | null; msgs: Msg[]; acked: number[] | null; fresh: boolean }

/** The tuples as the scheduler built them before the writer. */
function tuples(keepUntil: number, groups: Grp[]): Task {
  return [keepUntil, groups.map((g): TaskGroup => {
    const messages = g.msgs.map((m): TurnMessage => m.tp !== null ? [m.method, m.args, m.idem, m.caller, m.turn, m.ack, m.tp] : m.ack < 0 ? [m.method, m.args, m.idem, m.caller, m.turn] : [m.method, m.args, m.idem, m.caller, m.turn, m.ack]);
    return g.fresh ? [g.id, g.type, g.key, g.data, messages, g.acked, true] : g.acked !== null ? [g.id, g.type, g.key, g.data, messages, g.acked] : [g.id, g.type, g.key, g.data, messages];
  })];
}

function written(w: TaskWriter, keepUntil: number, groups: Grp[]): Uint8Array {
  w.start(keepUntil);
  for (const g of groups) {
    w.group(g.id, g.type, g.key, g.data, g.msgs.length, g.acked, g.fresh);
    for (const m of g.msgs) w.message(m.method, m.args, m.idem, m.caller, m.turn, m.ack, m.tp);
    w.endGroup();
  }
  return w.finish();
}

/** Byte arrays compared by content: the writer always sends bin, msgpackr a typed-array extension for a plain Uint8Array. */
function normalize(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: [...v] };
  if (Array.isArray(v)) return v.map(normalize);
  return v;
}

function check(w: TaskWriter, keepUntil: number, groups: Grp[]): void {
  const bytes = written(w, keepUntil, groups);
  assert.equal(bytes.byteOffset, 0);
  assert.equal(bytes.byteLength, bytes.buffer.byteLength, 'the task owns its whole buffer (it is transferred)');
  const expected = packr.unpack(packr.pack(tuples(keepUntil, groups)));
  const actual = packr.unpack(bytes);
  // Strict: -0 and 0 differ here, as they would after msgpackr's own encoding.
  assert.deepStrictEqual(normalize(actual), normalize(expected));
}

const msg = (over: Partial<Msg> = {}): Msg => ({ method: 'add', args: [1], idem: null, caller: null, turn: 1, ack: -1, tp: null, ...over });
const grp = (over: Partial<Grp> = {}): Grp => ({ id: 1, type: 'Counter', key: 'c-1', data: null, msgs: [msg()], acked: null, fresh: false, ...over });

test('the usual task: short ASCII names, small numbers, a record', () => {
  const w = new TaskWriter();
  check(w, Date.now() + 31_000, [
    grp({ data: Buffer.from([0x92, 1, 2]) }),
    grp({ id: 2, key: 'c-2', msgs: [msg({ turn: 70_000, idem: 'k-17', caller: 'client-3' }), msg({ turn: 70_001, ack: 12 })] }),
    grp({ id: 3, fresh: true, acked: [1, 2, 300, 70_000] }),
    grp({ id: 4, acked: [5] }),
    grp({ id: 5, fresh: true }),
    grp({ id: 6, msgs: [msg({ tp: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', ack: -1 }), msg({ tp: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', ack: 9 })] }),
    grp({ id: 7, msgs: [] }),
  ]);
});

test('numbers at every boundary of the integer formats, and the rest as doubles', () => {
  const w = new TaskWriter();
  const edges = [0, -0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31), -(2 ** 31) - 1, 0.5, -1.25, 1e300, NaN, Infinity, -Infinity, Number.MIN_VALUE];
  for (const n of edges) {
    check(w, n, [grp({ id: Math.abs(n) < 2 ** 32 && Number.isInteger(n) ? Math.abs(n) : 1, msgs: [msg({ args: [n], turn: Number.isInteger(n) && n >= 0 ? n : 3, ack: Number.isInteger(n) && n >= 0 ? n : -1 })] })]);
  }
});

test('strings: empty, at the short limit, long, non-ASCII, lone surrogates', () => {
  const w = new TaskWriter();
  const strings = ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(300), 'z'.repeat(70_000), 'é', 'ключ', '日本語のキー', '🙂', '\ud800', 'a\udc00b', '\u007f', '\u0080'];
  for (const s of strings) {
    check(w, 1, [grp({ type: s || 'T', key: s, msgs: [msg({ method: s || 'm', args: [s, s], idem: s || null, caller: s || null, tp: s || null })] })]);
  }
});

test('arguments of every kind go through as msgpackr encodes them', () => {
  const w = new TaskWriter();
  const argLists: unknown[][] = [
    [], [true, false, null], [undefined], [1, 'two', undefined], [{ a: 1, b: [2, 3] }], [[1, 2], [3]],
    [new Date(1_700_000_000_123)], [new Uint8Array([1, 2, 3])], [Buffer.from('abc')], [new Map([['k', 1]])], [new Set([1, 2])],
    Array.from({ length: 15 }, (_, i) => i), Array.from({ length: 16 }, (_, i) => i), Array.from({ length: 1000 }, (_, i) => `s${i}`),
    [1n], ['short', 'long'.repeat(20), 3.5],
  ];
  for (const args of argLists) check(w, 2, [grp({ msgs: [msg({ args })] })]);
});

test('large tasks: many groups, big records; the buffer grows and is given back', () => {
  const w = new TaskWriter();
  const big = Buffer.alloc(3 * 1024 * 1024, 7);
  check(w, 3, [grp({ data: big }), ...Array.from({ length: 2000 }, (_, i) => grp({ id: i + 2, key: `k-${i}`, data: Buffer.alloc(i % 300, i & 0xff), msgs: Array.from({ length: i % 20 }, (_, j) => msg({ turn: i * 100 + j })) }))]);
  check(w, 4, [grp({ data: Buffer.alloc(70_000, 1) })]);
  // After a large task the next small one still comes out right (the buffer was replaced).
  check(w, 5, [grp()]);
});

test('a task with arguments msgpackr cannot encode throws, and the writer goes on', () => {
  const w = new TaskWriter();
  w.start(1);
  w.group(1, 'Counter', 'c', null, 1, null, false);
  assert.throws(() => w.message('add', [Symbol('no')], null, null, 1, -1, null));
  check(w, 6, [grp()]);
});
