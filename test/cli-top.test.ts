/**
 * `troupe top` as people run it: against one node under load (piped: plain
 * blocks, no escape codes; on a terminal through script(1): redrawn in
 * place, cursor hidden and shown again), ended by --once, --count or
 * Ctrl-C; its help and mistakes; a token when auth is on; and a 2-node cluster (static discovery on
 * one shared embedded grid) where a stopped node shows as down.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { EmbeddedGrid } from '../grid/embedded/embedded-grid.js';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';
import { runTroupe, type CliRun as Run } from './fixtures/troupe-cli.js';
import { freePort } from './fixtures/transport-kit.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(root, 'bin/troupe.js');
const ESC = '\x1b';

const troupe = runTroupe;

/** A node's row of the view, split into its columns (NODE STATE CALLS/S ERR/S P99 BACKLOG OUTBOX BREAKERS). */
function row(text: string, id: string): string[] {
  const line = text.split('\n').find((l) => l.startsWith(`${id} `) || l.startsWith(`${id}*`));
  assert.ok(line !== undefined, `a row for ${id} in:\n${text}`);
  return line.trim().split(/\s{2,}/);
}

function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Calls at a steady pace until stopped, so calls/s is above zero whenever top looks. */
function steadyLoad(base: string): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    for (let i = 0; running && i < 20_000; i++) {
      const r = await fetch(`${base}/v1/actors/Counter/top-${i % 4}/add`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1]' });
      await r.body?.cancel();
      await new Promise((ok) => setTimeout(ok, 20));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

describe('troupe top against one node', () => {
  let node: TroupeNode;
  let url = '';
  let stopLoad: () => Promise<void>;

  before(async () => {
    node = await startNode();
    url = `http://127.0.0.1:${node.port}`;
    stopLoad = steadyLoad(url);
  });

  after(async () => {
    await stopLoad?.();
    await node?.stop();
  });

  test('--once, piped: one plain block with the node up and its calls/s, no escape codes', async () => {
    const r = await troupe(['top', '--url', url, '--once']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(ESC), `no ANSI escapes when piped: ${JSON.stringify(r.stdout)}`);
    assert.equal(r.stdout.match(/^troupe top /gm)?.length, 1, 'one block');
    assert.match(r.stdout, /^NODE +STATE +CALLS\/S +ERR\/S +P99 MS +BACKLOG +OUTBOX +BREAKERS OPEN$/m);
    const [id, state, calls, errors, p99, backlog, outbox, breakers] = row(r.stdout, node.config.nodeId);
    assert.equal(id, `${node.config.nodeId}*`, 'the node asked is marked');
    assert.equal(state, 'up');
    assert.ok(Number(calls) > 5, `calls/s under steady load: ${calls}`);
    assert.equal(Number(errors), 0);
    assert.ok(Number(p99) > 0, `p99 in ms: ${p99}`);
    assert.match(backlog!, /^\d+$/);
    assert.match(outbox!, /^\d+$/);
    assert.equal(breakers, '0');
    assert.match(r.stdout, /^cluster: 1 node, 1 up, [\d.]+ calls\/s$/m);
  });

  test('--count 2, piped: two plain blocks, then exit 0', async () => {
    const r = await troupe(['top', '--url', url, '--count', '2', '--interval', '0.3']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(ESC));
    assert.equal(r.stdout.match(/^troupe top /gm)?.length, 2);
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith(`${node.config.nodeId}*`)).length, 2);
  });

  test('on a terminal: each frame clears and redraws in place; the cursor is hidden, then shown again', async (t) => {
    if (!hasScript()) {
      t.skip('script(1) from util-linux is not installed: no pseudo-terminal to run top on');
      return;
    }
    const command = [process.execPath, BIN, 'top', '--url', url, '--count', '2', '--interval', '0.3'].map((a) => `'${a}'`).join(' ');
    const r = await new Promise<Run>((done) => {
      execFile('script', ['-qec', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '', TERM: 'xterm' }, timeout: 20_000 }, (err, stdout, stderr) => {
        done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
      });
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split(`${ESC}[H${ESC}[2J`).length - 1, 2, `two clear-screen frames: ${JSON.stringify(r.stdout.slice(0, 200))}`);
    assert.ok(r.stdout.startsWith(`${ESC}[?25l`), 'cursor hidden first');
    assert.ok(r.stdout.trimEnd().endsWith(`${ESC}[?25h`), 'cursor shown again at the end');
    assert.ok(r.stdout.includes(`${node.config.nodeId}*`));
  });

  test('without --count it runs until Ctrl-C, then exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'top', '--url', url, '--interval', '0.2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += String(d);
    });
    const ended = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    const start = Date.now();
    while ((out.match(/^troupe top /gm)?.length ?? 0) < 3 && Date.now() - start < 10_000) await new Promise((ok) => setTimeout(ok, 50));
    assert.ok((out.match(/^troupe top /gm)?.length ?? 0) >= 3, `refreshing: ${out}`);
    child.kill('SIGINT');
    const code = await Promise.race([ended, new Promise<'hung'>((ok) => setTimeout(() => ok('hung'), 5000))]);
    if (code === 'hung') child.kill('SIGKILL');
    assert.equal(code, 0);
  });
});

describe('troupe top: help and mistakes', () => {
  test('--help describes the view and lists examples; troupe --help lists top', async () => {
    const r = await troupe(['top', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: troupe top/);
    assert.match(r.stdout, /examples:\n {2}troupe top\n {2}troupe top --url http/);
    for (const flag of ['--url', '--interval', '--count', '--once', '--token']) assert.ok(r.stdout.includes(flag), flag);
    assert.match((await troupe(['--help'])).stdout, /^ {2}top {2,}a live view of a cluster/m);
  });

  test('a mistyped command or flag gets a suggestion; bad values and no node say what is wrong', async () => {
    const typo = await troupe(['topp']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown command 'topp'; did you mean top\?/);
    const flag = await troupe(['top', '--intervall', '2']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /unknown option --intervall; did you mean --interval\?/);
    const interval = await troupe(['top', '--interval', '0']);
    assert.equal(interval.code, 2);
    assert.match(interval.stderr, /--interval must be seconds between 0.2 and 3600, got '0'/);
    const port = await freePort();
    const gone = await troupe(['top', '--url', `http://127.0.0.1:${port}`, '--once']);
    assert.equal(gone.code, 3);
    assert.match(gone.stderr, new RegExp(`cannot reach a node at http://127.0.0.1:${port} \\(ECONNREFUSED\\)`));
  });
});

describe('troupe top against a node with auth on', () => {
  const SECRET = 'top-test-auth-secret-of-32-characters!';
  let node: TroupeNode;

  before(async () => {
    node = await startNode([], { env: { TROUPE_AUTH_SECRET: SECRET } });
  });

  after(async () => {
    await node?.stop();
  });

  test('no token: exit 1 saying TROUPE_TOKEN is wanted; with TROUPE_TOKEN or --token: the view', async () => {
    const url = `http://127.0.0.1:${node.port}`;
    const refused = await troupe(['top', '--url', url, '--once']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /wants a token: set TROUPE_TOKEN/);
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('ops').setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
    const fromEnv = await troupe(['top', '--url', url, '--once'], { TROUPE_TOKEN: token });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.equal(row(fromEnv.stdout, node.config.nodeId)[1], 'up');
    const fromFlag = await troupe(['top', '--url', url, '--once', '--token', token]);
    assert.equal(fromFlag.code, 0, fromFlag.stderr);
  });
});

describe('troupe top on a 2-node cluster', () => {
  const SECRET = 'top-test-cluster-secret';
  let grid: EmbeddedGrid;
  let a: TroupeNode;
  let b: TroupeNode | null = null;

  before(async () => {
    grid = new EmbeddedGrid();
    await grid.start();
    const [pa, la, pb, lb] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const peers = `top-a@127.0.0.1:${pa}/${la},top-b@127.0.0.1:${pb}/${lb}`;
    const flags = (id: string, port: number, link: number): string[] => ['--node-id', id, '--port', String(port), '--link-port', String(link), '--discovery', 'static', '--peers', peers];
    const env = { TROUPE_CLUSTER_SECRET: SECRET };
    [a, b] = await Promise.all([startNode(flags('top-a', pa, la), { grid, env }), startNode(flags('top-b', pb, lb), { grid, env })]);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await grid?.close();
  });

  test('both nodes are listed up from either one; a stopped node shows as down with the reason', async () => {
    const fromA = await troupe(['top', '--url', `http://127.0.0.1:${a.port}`, '--once']);
    assert.equal(fromA.code, 0, fromA.stderr);
    assert.deepEqual(row(fromA.stdout, 'top-a').slice(0, 2), ['top-a*', 'up']);
    assert.deepEqual(row(fromA.stdout, 'top-b').slice(0, 2), ['top-b', 'up']);
    assert.match(fromA.stdout, /^cluster: 2 nodes, 2 up/m);
    const fromB = await troupe(['top', '--url', `http://127.0.0.1:${b!.port}`, '--once']);
    assert.deepEqual(row(fromB.stdout, 'top-b').slice(0, 2), ['top-b*', 'up']);
    await b!.stop();
    b = null;
    const after = await troupe(['top', '--url', `http://127.0.0.1:${a.port}`, '--once']);
    assert.equal(after.code, 0, after.stderr);
    assert.deepEqual(row(after.stdout, 'top-b').slice(0, 3), ['top-b', 'down', '-']);
    assert.match(after.stdout, /^cluster: 2 nodes, 1 up/m);
    // Which comes first depends on timing: the dashboard's read of it refused, or static discovery seeing its link go.
    assert.match(after.stdout, /^ {2}top-b down: (?:connection refused|discovery dropped it)$/m);
  });
});
