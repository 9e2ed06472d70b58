/**
 * The command line as people use it: --version, --help with examples on
 * every command, "did you mean" for mistyped commands and flags, `troupe
 * call` against a running node (output and exit codes), and `troupe dev`
 * restarting its node when an actor file changes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startNode, type NodeHandle } from '../runtime/index.js';
import { MODULES } from './fixtures/node.js';
import { runTroupe } from './fixtures/troupe-cli.js';
import { freePort } from './fixtures/transport-kit.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(root, 'bin/troupe.js');
const TALLY = fileURLToPath(new URL('./fixtures/versioned-v2.js', import.meta.url));

const troupe = runTroupe;

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  let last: unknown;
  while (Date.now() - start < timeoutMs) {
    try {
      const v = await probe();
      if (ok(v)) return Date.now() - start;
      last = v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms (last: ${String(last)})`);
}

describe('troupe --version and --help', () => {
  test('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = await troupe([flag]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^troupe ${version.replace(/\./g, '\\.')} \\(Node\\.js `));
    }
  });

  test('every command has --help with examples, on stdout, exit 0', async () => {
    for (const args of [['--help'], ['start', '--help'], ['call', '--help'], ['dev', '--help'], ['cluster', '--help'], ['hazelcast', '--help'], ['help', 'call']]) {
      const r = await troupe(args);
      assert.equal(r.code, 0, `troupe ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /^usage: troupe/, `troupe ${args.join(' ')}`);
      assert.match(r.stdout, /\nexamples:\n  (\S+=\S+ )?troupe /, `troupe ${args.join(' ')} shows examples`);
    }
  });

  test('a mistyped command or flag names the nearest one', async () => {
    const cases: [string[], RegExp][] = [
      [['strat'], /unknown command 'strat'; did you mean start\?/],
      [['start', '--prot', '1'], /unknown option --prot; did you mean --port\?/],
      [['start', '--actor', 'a.js'], /unknown option --actor; did you mean --actors\?/],
      [['call', 'Counter', 'c1', 'get', '--urll', 'x'], /unknown option --urll; did you mean --url\?/],
      [['dev', '--actors', 'a.js', '--debounse', '1'], /unknown option --debounse; did you mean --debounce\?/],
      [['dev', '--actors', 'a.js', '--treads', '1'], /unknown option --treads; did you mean --threads\?/],
      [['cluster', 'stauts'], /unknown command 'stauts'; did you mean status\?/],
      [['cluster', 'up', '--nodse', '2'], /unknown option --nodse; did you mean --nodes\?/],
      [['hazelcast', 'up', '--membrs', '2'], /unknown option --membrs; did you mean --members\?/],
      [['hazelcast', 'dwon'], /unknown command 'dwon'; did you mean down\?/],
    ];
    for (const [args, message] of cases) {
      const r = await troupe(args);
      assert.notEqual(r.code, 0, `troupe ${args.join(' ')} fails`);
      assert.match(r.stderr, message, `troupe ${args.join(' ')}`);
    }
    const far = await troupe(['frobnicate']);
    assert.doesNotMatch(far.stderr, /did you mean/, 'no guess for a word far from every command');
  });
});

describe('troupe call', () => {
  let node: NodeHandle;
  before(async () => {
    node = await startNode({ port: 0, actors: [MODULES.counter, TALLY], threads: 1, logLevel: 'silent' });
  });
  after(async () => {
    await node.stop();
  });

  test('prints the result as indented JSON and exits 0; arguments are JSON or plain strings', async () => {
    const r = await troupe(['call', 'Counter', 'cli', 'add', '5', '--url', node.address.http]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '5\n', '']);
    const t = await troupe(['call', 'Tally', 'cli', 'add', '2', '--url', node.address.ws]);
    assert.equal(t.code, 0, t.stderr);
    const g = await troupe(['call', 'Tally', 'cli', 'get'], { TROUPE_URL: node.address.http });
    assert.equal(g.stdout, `${JSON.stringify({ total: 2, adds: 1, unit: 'items' }, null, 2)}\n`);
    const raw = await troupe(['call', 'Counter', 'cli', 'get', '--json', '--url', node.address.http]);
    assert.equal(raw.stdout, '{"value":5}\n');
    // "x" is not JSON: it goes as the string "x", which Counter.add refuses.
    const s = await troupe(['call', 'Counter', 'cli', 'add', 'x', '--url', node.address.http]);
    assert.match(s.stderr, /^E_ACTOR_FAILED: add\(n\) needs a finite number/);
  });

  test('an idempotency key applies the call once', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await troupe(['call', 'Counter', 'idem', 'add', '--args', '[7]', '--idem', 'k-1', '--url', node.address.http]);
      assert.deepEqual([r.code, r.stdout], [0, '7\n']);
    }
  });

  test('exit codes: 1 for an error answer, 2 for bad usage, 3 when no node answers', async () => {
    const failed = await troupe(['call', 'Counter', 'cli', 'nope', '--url', node.address.http]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^E_UNKNOWN_METHOD: /);
    const usage = await troupe(['call', 'Counter', 'cli']);
    assert.equal(usage.code, 2);
    const badArgs = await troupe(['call', 'Counter', 'cli', 'add', '--args', '{}', '--url', node.address.http]);
    assert.equal(badArgs.code, 2);
    assert.match(badArgs.stderr, /--args must be a JSON array/);
    const gone = await troupe(['call', 'Counter', 'cli', 'get', '--url', `http://127.0.0.1:${await freePort()}`]);
    assert.equal(gone.code, 3);
    assert.match(gone.stderr, /cannot reach a node at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });
});

describe('troupe dev', () => {
  let dev: ChildProcess | null = null;
  let dir: string;
  let output = '';
  const actorsUrl = pathToFileURL(join(root, 'dist/actors/index.js')).href;
  const actor = (reply: string): string =>
    `import { Actor } from '${actorsUrl}';\nexport class Hello extends Actor {\n  static expose = ['hello'];\n  state = {};\n  hello() { return '${reply}'; }\n}\n`;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'troupe-dev-'));
    writeFileSync(join(dir, 'hello.mjs'), actor('v1'));
  });
  after(() => {
    if (dev !== null && dev.exitCode === null) dev.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('restarts the node when an actor file changes, survives a broken edit, and stops its node on SIGTERM', async () => {
    const port = await freePort();
    dev = spawn(process.execPath, [BIN, 'dev', '--port', String(port), '--actors', join(dir, 'hello.mjs'), '--threads', '1', '--grace', '2000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    dev.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    dev.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const hello = async (): Promise<string> => {
      const res = await fetch(`http://127.0.0.1:${port}/v1/actors/Hello/k/hello`, { method: 'POST', body: '[]' });
      return ((await res.json()) as { value: string }).value;
    };
    await until('the first node answers', hello, (v) => v === 'v1', 20_000);

    writeFileSync(join(dir, 'hello.mjs'), actor('v2'));
    const took = await until('the restarted node answers with the edited code', hello, (v) => v === 'v2', 15_000);
    assert.match(output, /hello\.mjs changed; restarting the node/);

    // A broken edit: the node cannot start; dev says so and waits for the next change.
    writeFileSync(join(dir, 'hello.mjs'), 'export class {');
    await until('dev reports the failed start', async () => output, (o) => /the node exited \(code 1\); it starts again on the next change/.test(o), 15_000);
    writeFileSync(join(dir, 'hello.mjs'), actor('v3'));
    await until('the fixed code answers', hello, (v) => v === 'v3', 15_000);

    const exited = new Promise<number | null>((ok) => dev!.once('exit', (code) => ok(code)));
    dev.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((ok) => setTimeout(() => ok('timeout'), 10_000))]);
    assert.equal(code, 0, `dev exits 0 after SIGTERM (output: ${output})`);
    // Its node is gone too: nothing listens on the port any more.
    await assert.rejects(new Promise((ok, fail) => netConnect(port, '127.0.0.1').once('connect', ok).once('error', fail)), /ECONNREFUSED/);
    assert.ok(took < 15_000);
  });
});
