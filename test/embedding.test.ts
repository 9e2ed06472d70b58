/**
 * The embedding API, `startNode` from 'troupe/runtime': a node in this
 * process on the embedded grid, called through the client SDK, drained and
 * stopped; bad settings are refused with the CLI's own messages.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
// The package's own export, as a user imports it: resolves to dist/runtime/index.js.
import { ConfigError, startNode, type NodeSettings } from 'troupe/runtime';
import { connect } from '../client/index.js';
import { loadConfig } from '../runtime/config.js';
import { MODULES } from './fixtures/node.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

describe('startNode (embedding)', () => {
  test('starts on the embedded grid, answers SDK calls, drains (not ready) and stops', async () => {
    const node = await startNode({ port: 0, actors: [MODULES.counter], threads: 1, logLevel: 'silent' });
    try {
      assert.match(node.address.ws, /^ws:\/\/127\.0\.0\.1:\d+\/v1\/ws$/);
      assert.equal(node.address.http, `http://127.0.0.1:${node.address.port}`);
      assert.equal(node.ready, true);
      const client = await connect({ url: node.address.ws });
      try {
        assert.equal(await client.call('Counter', 'embedded', 'add', [2]), 2);
        assert.equal(await client.call('Counter', 'embedded', 'add', [3]), 5);
      } finally {
        await client.close();
      }
      assert.equal((await fetch(`${node.address.http}/health/ready`)).status, 200);
      await node.drain(2_000);
      assert.equal(node.ready, false);
      assert.equal(node.readiness().details.state, 'draining');
      assert.equal((await fetch(`${node.address.http}/health/ready`)).status, 503);
      // The fetches above keep their connection alive: after stop it must be closed too, not answered.
      assert.equal((await fetch(`${node.address.http}/health/live`)).status, 200);
    } finally {
      await node.stop();
    }
    await node.stop(); // a second stop is harmless
    await assert.rejects(fetch(`${node.address.http}/health/live`), 'a kept-alive connection is closed by stop');
    // A new connection is refused: the gateway no longer listens.
    await assert.rejects(new Promise((ok, fail) => netConnect(node.address.port, '127.0.0.1').once('connect', ok).once('error', fail)), /ECONNREFUSED/);
  });

  test('two nodes start in one process, each with its own port', async () => {
    const a = await startNode({ port: 0, actors: [MODULES.counter], threads: 1, logLevel: 'silent' });
    const b = await startNode({ port: 0, actors: [MODULES.counter], threads: 1, logLevel: 'silent' });
    try {
      assert.notEqual(a.address.port, b.address.port);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  test('reads the environment only when given one, below the settings in code', async () => {
    const node = await startNode({ port: 0, actors: [MODULES.counter], threads: 1 }, { env: { TROUPE_LOG_LEVEL: 'silent', TROUPE_PORT: '1', TROUPE_IDLE: '1234' } });
    try {
      assert.notEqual(node.address.port, 1);
      assert.equal(node.config.idleMs, 1234);
      assert.equal(node.config.logLevel, 'silent');
    } finally {
      await node.stop();
    }
  });

  // Each case: the same mistake as flags (and environment) and as typed settings.
  const cases: { name: string; flags: string[]; env?: Record<string, string>; settings: NodeSettings; message: RegExp }[] = [
    { name: 'a port out of range', flags: ['--port', '70000'], settings: { port: 70000 }, message: /^--port must be an integer between 0 and 65535, got '70000'$/ },
    { name: 'an unknown grid engine', flags: ['--grid', 'mongo'], settings: { grid: 'mongo' as never }, message: /^--grid must be one of embedded, hazelcast, got 'mongo'$/ },
    { name: 'a bad log level', flags: ['--log-level', 'loud'], settings: { logLevel: 'loud' as never }, message: /^--log-level must be one of debug, info, warn, error, silent, got 'loud'$/ },
    { name: 'a string limit past the frame', flags: ['--max-frame', '2048', '--max-string', '4096'], settings: { maxFrame: 2048, maxString: 4096 }, message: /^--max-string \(4096\) must not exceed --max-frame \(2048\)/ },
    { name: 'static discovery without peers', flags: ['--discovery', 'static', '--insecure-cluster', 'true'], settings: { discovery: 'static', insecureCluster: true }, message: /^--discovery static needs --peers$/ },
    { name: 'a short auth secret', flags: [], env: { TROUPE_AUTH_SECRET: 'short' }, settings: { authSecret: 'short' }, message: /^TROUPE_AUTH_SECRET must be at least 32 characters/ },
  ];
  for (const c of cases) {
    test(`refuses ${c.name} with the CLI's message`, async () => {
      let cliMessage = '';
      assert.throws(() => loadConfig(c.flags, c.env ?? {}), (e: unknown) => {
        cliMessage = (e as Error).message;
        return e instanceof ConfigError && c.message.test(cliMessage);
      });
      await assert.rejects(startNode({ actors: [MODULES.counter], ...c.settings }), (e: unknown) => e instanceof ConfigError && e.message === cliMessage);
    });
  }

  test('a typed value of the wrong type names the flag; an unknown setting suggests the nearest', async () => {
    await assert.rejects(startNode({ port: '7070' as never }), /^ConfigError: --port must be an integer between 0 and 65535, got '7070'$/);
    await assert.rejects(startNode({ actors: 'a.js' as never }), /--actors must be a list of strings/);
    await assert.rejects(startNode({ prot: 0 } as never), /unknown setting 'prot'; did you mean port\?/);
  });

  test('troupe start (the CLI, built on startNode) prints the same line and exits 1', async () => {
    const out = await run(process.execPath, [join(root, 'bin/troupe.js'), 'start', '--port', '70000', '--actors', MODULES.counter]).then(
      () => assert.fail('troupe start accepted --port 70000'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(out.code, 1);
    assert.equal(out.stderr.trim(), "troupe: --port must be an integer between 0 and 65535, got '70000'");
  });
});
