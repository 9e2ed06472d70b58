/**
 * examples/ingest as its README runs it: a real Kafka broker, a node reading
 * the topic with --stream, the producer script, then the check script, which
 * must find every account's balance equal to what was produced.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TroupeNode } from '../runtime/node.js';
import { startKafka, type KafkaFixture } from './fixtures/kafka.js';
import { startNode } from './fixtures/node.js';

const run = promisify(execFile);
const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const script = (name: string): string => join(dist, 'examples', 'ingest', `${name}.js`);

let kafka: KafkaFixture;
let node: TroupeNode;
let dir: string;
const TOPIC = 'ingest-example';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-ingest-'));
  kafka = await startKafka();
  node = await startNode(['--stream', `kafka:${kafka.bootstrap}:${TOPIC}:Account.deposit`]);
});

after(async () => {
  await node?.stop();
  await kafka?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test('the producer writes payments keyed by account; the node applies each once; the check finds every balance exact', async () => {
  const expected = join(dir, 'expected.json');
  const produced = await run(process.execPath, [script('produce'), '--brokers', kafka.bootstrap, '--topic', TOPIC, '--count', '3000', '--accounts', '40', '--expected', expected], { timeout: 60_000 });
  const p = JSON.parse(produced.stdout) as { records: number; accounts: number; total: number };
  assert.equal(p.records, 3000);
  assert.equal(p.accounts, 40);
  const checked = await run(process.execPath, [script('check'), '--url', `ws://127.0.0.1:${node.port}/v1/ws`, '--expected', expected, '--wait', '90'], { timeout: 120_000 }).catch((err: { stdout?: string; code?: number }) => ({ stdout: err.stdout ?? '', failed: err.code }));
  assert.deepEqual(JSON.parse(checked.stdout), { ok: true, accounts: 40, total: p.total });
});

test('a mistyped flag stops a script with one line and exit code 2', async () => {
  const r = await run(process.execPath, [script('produce'), '--brokers', kafka.bootstrap, '--topik', TOPIC]).catch((err: { stderr: string; code: number }) => err);
  assert.equal((r as { code: number }).code, 2);
  assert.match((r as { stderr: string }).stderr, /^ingest: unknown flag --topik/);
});
