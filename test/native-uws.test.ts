/**
 * Node 20, 22 and 24: the gateway's uWebSockets.js build loads natively, and
 * where none does (Node 24 on glibc below 2.38, or a load forced to fail) the
 * node refuses to start with one line saying why and what to do. The package
 * (@based/uws) has no JavaScript fallback, so refusing is the only behaviour.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isNativeUws, noNativeBuildLine } from '../runtime/gateway/native-uws.js';
import { MODULES } from './fixtures/node.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(root, 'bin/troupe.js');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `troupe start` with `node`; resolves when it exits, or after `ms` (then stops it by its PID). */
function startWith(node: string, env: Record<string, string>, ms = 15_000): Promise<Run & { readonly started: boolean }> {
  return new Promise((done) => {
    const child = execFile(node, [BIN, 'start', '--port', '0', '--threads', '1', '--actors', MODULES.counter], { env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) => {
      clearTimeout(timer);
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr, started: /ready: ws:\/\//.test(stderr) });
    });
    // A node that started runs until stopped: stop it once it said ready (or at the deadline).
    const timer = setTimeout(() => child.kill('SIGTERM'), ms);
    child.stderr?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready: ws://')) child.kill('SIGTERM');
    });
  });
}

/** glibc's version on this machine, as Node reports it ('' when not glibc). */
function glibc(): string {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ?? '';
}

const atLeast = (version: string, want: [number, number]): boolean => {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > want[0] || (major === want[0] && minor >= want[1]);
};

const REFUSAL = /^troupe: uWebSockets\.js has no native build that loads on Node [\d.]+ \(ABI \d+\) on linux x64: .+\. Run the node on Node 20 or 22, or on Node 24 with glibc 2\.38 or newer .*there is no JavaScript fallback$/;

describe('uWebSockets.js native build', () => {
  test(`loads natively on this Node (${process.versions.node}, ABI ${process.versions.modules})`, () => {
    assert.equal(isNativeUws(), true);
  });

  test('a node where the build does not load refuses to start with one line (load forced to fail)', async () => {
    const run = await startWith(process.execPath, { TROUPE_FAILPOINTS: 'load-uws=throw' });
    assert.equal(run.started, false);
    assert.equal(run.code, 1);
    const lines = run.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, REFUSAL);
    assert.match(lines[0]!, /failpoint load-uws/);
  });

  test("the line keeps the loader's cause and drops the package's paragraph", () => {
    // The text @based/uws 6.0.1 throws on Node 24 with glibc 2.36 (measured).
    const packageError = new Error(
      'This version of uWS.js (v20.51.0) supports only Node.js versions 18, 20, 22 and 23 on (glibc) Linux, macOS and Windows, on Tier 1 platforms (https://github.com/nodejs/node/blob/master/BUILDING.md#platform-list).\n\n' +
        "Error: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by /app/node_modules/uWebSockets.js/uws_linux_x64_137.node)",
    );
    const line = noNativeBuildLine(packageError);
    assert.equal(line.includes('\n'), false);
    assert.match(line, /: \/lib\/x86_64-linux-gnu\/libc\.so\.6: version `GLIBC_2\.38' not found \(required by .*uws_linux_x64_137\.node\)\. Run the node on Node 20 or 22/);
    assert.equal(line.includes('supports only'), false);
  });

  const node24 = process.env.TROUPE_NODE_24 ?? '';
  test('on Node 24: starts natively with glibc 2.38+, refuses with the one line below it', { skip: node24 === '' || !existsSync(node24) ? 'no Node 24 binary (TROUPE_NODE_24; npm test fetches it)' : false }, async () => {
    const run = await startWith(node24, {});
    if (atLeast(glibc(), [2, 38])) {
      assert.equal(run.started, true, run.stderr);
      return;
    }
    assert.equal(run.started, false);
    assert.equal(run.code, 1);
    const lines = run.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, REFUSAL);
    assert.match(lines[0]!, /GLIBC_2\.38' not found/);
  });
});
