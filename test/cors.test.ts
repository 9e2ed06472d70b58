/**
 * CORS on the HTTP API (--allowed-origins): off by default (a preflight is
 * refused, no CORS header on answers); with origins listed, a preflight from
 * a listed origin is answered with what a page may send, answers to it carry
 * Access-Control-Allow-Origin, and any other origin is refused. The browser's
 * side of it runs in test/browser-client.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TroupeNode } from '../runtime/node.js';
import { ConfigError, loadConfig } from '../runtime/config.js';
import { startNode } from './fixtures/node.js';

const PAGE = 'http://127.0.0.1:8123';

function preflight(base: string, path: string, origin: string | null, method = 'POST'): Promise<Response> {
  const headers: Record<string, string> = { 'access-control-request-method': method, 'access-control-request-headers': 'content-type, idempotency-key' };
  if (origin !== null) headers.origin = origin;
  return fetch(`${base}${path}`, { method: 'OPTIONS', headers });
}

describe('CORS, --allowed-origins not set (the default)', () => {
  let node: TroupeNode;
  let base: string;
  before(async () => {
    node = await startNode();
    base = `http://127.0.0.1:${node.port}`;
  });
  after(async () => {
    await node.stop();
  });

  test('a preflight is refused (403, no CORS headers) and calls carry no Access-Control-Allow-Origin', async () => {
    const r = await preflight(base, '/v1/actors/Counter/c/add', PAGE);
    assert.equal(r.status, 403);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    assert.match(((await r.json()) as { message: string }).message, /--allowed-origins is not set/);
    const call = await fetch(`${base}/v1/actors/Counter/cors-off/add`, { method: 'POST', headers: { origin: PAGE }, body: '[1]' });
    assert.deepEqual(await call.json(), { value: 1 });
    assert.equal(call.headers.get('access-control-allow-origin'), null);
  });
});

describe('CORS, --allowed-origins listing one origin', () => {
  let node: TroupeNode;
  let base: string;
  before(async () => {
    node = await startNode(['--allowed-origins', `${PAGE},https://app.example.com`]);
    base = `http://127.0.0.1:${node.port}`;
  });
  after(async () => {
    await node.stop();
  });

  test('a preflight from a listed origin is answered 204 with the methods and headers a page may send', async () => {
    const r = await preflight(base, '/v1/actors/Counter/c/add', PAGE);
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), PAGE);
    assert.equal(r.headers.get('access-control-allow-methods'), 'POST');
    assert.match(r.headers.get('access-control-allow-headers') ?? '', /content-type.*authorization.*idempotency-key/);
    assert.equal(r.headers.get('access-control-allow-credentials'), null);
    assert.match(r.headers.get('vary') ?? '', /origin/i);
    const health = await preflight(base, '/health/ready', 'https://app.example.com', 'GET');
    assert.equal(health.status, 204);
    assert.equal(health.headers.get('access-control-allow-methods'), 'GET');
  });

  test('answers to a listed origin carry Access-Control-Allow-Origin, errors included', async () => {
    const call = await fetch(`${base}/v1/actors/Counter/cors-on/add`, { method: 'POST', headers: { origin: PAGE, 'content-type': 'application/json' }, body: '[2]' });
    assert.deepEqual(await call.json(), { value: 2 });
    assert.equal(call.headers.get('access-control-allow-origin'), PAGE);
    const bad = await fetch(`${base}/v1/actors/Nope/k/m`, { method: 'POST', headers: { origin: PAGE }, body: '[]' });
    assert.equal(bad.status, 404);
    assert.equal(bad.headers.get('access-control-allow-origin'), PAGE);
    const ready = await fetch(`${base}/health/ready`, { headers: { origin: PAGE } });
    assert.equal(ready.headers.get('access-control-allow-origin'), PAGE);
  });

  test('any other origin, or a method the route does not take, is refused', async () => {
    for (const origin of ['http://127.0.0.1:8124', 'https://evil.example.com', 'null']) {
      const r = await preflight(base, '/v1/actors/Counter/c/add', origin);
      assert.equal(r.status, 403, origin);
      assert.equal(r.headers.get('access-control-allow-origin'), null);
      assert.match(((await r.json()) as { message: string }).message, /not in --allowed-origins/);
    }
    const noOrigin = await preflight(base, '/v1/actors/Counter/c/add', null);
    assert.equal(noOrigin.status, 403);
    const wrongMethod = await preflight(base, '/v1/actors/Counter/c/add', PAGE, 'DELETE');
    assert.equal(wrongMethod.status, 403);
    const call = await fetch(`${base}/v1/actors/Counter/cors-other/add`, { method: 'POST', headers: { origin: 'https://evil.example.com' }, body: '[1]' });
    assert.equal(call.headers.get('access-control-allow-origin'), null);
  });
});

describe('--allowed-origins values', () => {
  test('origins and * are taken; a path, a trailing slash or another scheme is refused with one line', () => {
    assert.deepEqual(loadConfig(['--allowed-origins', 'https://a.example.com, http://127.0.0.1:8080'], {}).allowedOrigins, ['https://a.example.com', 'http://127.0.0.1:8080']);
    assert.deepEqual(loadConfig([], { TROUPE_ALLOWED_ORIGINS: '*' }).allowedOrigins, ['*']);
    assert.deepEqual(loadConfig([], {}).allowedOrigins, []);
    for (const bad of ['https://a.example.com/', 'https://a.example.com/app', 'ftp://a.example.com', 'a.example.com']) {
      assert.throws(() => loadConfig(['--allowed-origins', bad], {}), (err: unknown) => err instanceof ConfigError && /--allowed-origins takes origins like/.test(err.message), bad);
    }
  });
});
