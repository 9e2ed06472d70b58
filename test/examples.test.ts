/** Each example's client script runs against a node and prints what its README promises. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';

const run = promisify(execFile);
const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let node: TroupeNode;
let url: string;

before(async () => {
  node = await startNode();
  url = `ws://127.0.0.1:${node.port}/v1/ws`;
});
after(async () => {
  await node.stop();
});

const client = async (name: string, ...args: string[]): Promise<string> =>
  (await run(process.execPath, [join(dist, 'examples', name, 'client.js'), url, ...args], { timeout: 30_000 })).stdout;

test('counter client', async () => {
  const out = await client('counter');
  assert.match(out, /add\(5\) → 5\nadd\(2\) → 7\nget\(\) → 7/);
  assert.match(out, /last totals: \[\s*100(,\s*100){9}\s*\]/);
});

test('bank client', async () => {
  const out = await client('bank');
  assert.match(out, /deposit\(100\) → 100/);
  assert.match(out, /withdraw\(1000\) → E_ACTOR_FAILED INSUFFICIENT_FUNDS/);
  assert.match(out, /deposit\(500\) with idem → 500\nsame call again → 500/);
  assert.match(out, /balance → 70/);
});

test('chat client', async () => {
  const out = await client('chat', 'example-room', 'ann');
  assert.match(out, /\[example-room\] ann: hello/);
  assert.match(out, /history holds 3 posts/);
});

test('relay client', async () => {
  const out = await client('relay');
  assert.match(out, /forwardAwait\(2\) → 2\nforward\(5\) → true\ncounter → 7/);
});

test('ticker client', async () => {
  const out = await client('ticker');
  assert.match(out, /cancel\(never\) → true/);
  assert.match(out, /pending → \[ 'once', 'thrice' \]/);
  assert.match(out, /fired → \{ (thrice: 3, once: 1|once: 1, thrice: 3) \}\npending → \[\]/);
});
