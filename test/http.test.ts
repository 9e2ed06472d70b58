/** The gateway's HTTP side: calls, status codes, health and metrics. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';

describe('HTTP gateway', () => {
  let node: TroupeNode;
  let base: string;
  const post = (path: string, body?: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', body, headers });

  before(async () => {
    node = await startNode(['--max-frame', '4096']);
    base = `http://127.0.0.1:${node.port}`;
  });
  after(async () => {
    await node.stop();
  });

  test('POST /v1/actors/:type/:key/:method calls the actor with a JSON array', async () => {
    const r = await post('/v1/actors/Counter/http-1/add', '[5]');
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { value: 5 });
    assert.deepEqual(await (await post('/v1/actors/Counter/http-1/get')).json(), { value: 5 });
  });

  test('URL-encoded keys reach the actor decoded', async () => {
    await post(`/v1/actors/Log/${encodeURIComponent('a b/ü')}/append`, '["x"]');
    const r = await post(`/v1/actors/Log/${encodeURIComponent('a b/ü')}/items`);
    assert.deepEqual(await r.json(), { value: ['x'] });
  });

  for (const [what, path, body, status, code] of [
    ['unknown actor', '/v1/actors/Nope/k/add', '[1]', 404, 'E_UNKNOWN_ACTOR'],
    ['unknown method', '/v1/actors/Counter/k/nope', '[1]', 404, 'E_UNKNOWN_METHOD'],
    ['not exposed', '/v1/actors/Log/k/secret', '[]', 404, 'E_UNKNOWN_METHOD'],
    ['handler throws', '/v1/actors/Account/http/withdraw', '[10]', 422, 'E_ACTOR_FAILED'],
    ['body not JSON', '/v1/actors/Counter/k/add', '{nope', 400, 'E_BAD_REQUEST'],
    ['body not an array', '/v1/actors/Counter/k/add', '{"a":1}', 400, 'E_BAD_REQUEST'],
    ['body too large', '/v1/actors/Log/k/append', JSON.stringify(['x'.repeat(5000)]), 413, 'E_TOO_LARGE'],
  ] as const) {
    test(`${what} → ${status} ${code}`, async () => {
      const r = await post(path, body);
      assert.equal(r.status, status);
      const json = (await r.json()) as { code: string; message: string };
      assert.equal(json.code, code);
      assert.equal(typeof json.message, 'string');
    });
  }

  test('Idempotency-Key applies a call once', async () => {
    const a = await (await post('/v1/actors/Counter/http-idem/add', '[3]', { 'idempotency-key': 'h1' })).json();
    const b = await (await post('/v1/actors/Counter/http-idem/add', '[3]', { 'idempotency-key': 'h1' })).json();
    assert.deepEqual(a, { value: 3 });
    assert.deepEqual(b, { value: 3 });
  });

  test('X-Troupe-Timeout sets the deadline → 504 E_TIMEOUT', async () => {
    const r = await post('/v1/actors/Log/http-slow/slowAppend', '["x", 500]', { 'x-troupe-timeout': '50' });
    assert.equal(r.status, 504);
    assert.equal(((await r.json()) as { code: string }).code, 'E_TIMEOUT');
  });

  test('health probes answer', async () => {
    const live = await fetch(`${base}/health/live`);
    assert.equal(live.status, 200);
    const ready = await fetch(`${base}/health/ready`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { status: string; grid: { engine: string; ready: boolean } };
    assert.equal(body.status, 'ready');
    // The embedded grid says what a restart loses: everything.
    assert.deepEqual(body.grid, { engine: 'embedded', ready: true, durability: { mode: 'none', detail: 'in-process memory: lost with the process' } });
  });

  test('/metrics is Prometheus text with the call, error, latency and backlog metrics', async () => {
    await post('/v1/actors/Counter/m/add', '[1]');
    const r = await fetch(`${base}/metrics`);
    assert.equal(r.status, 200);
    const text = await r.text();
    for (const name of ['troupe_calls_total', 'troupe_errors_total', 'troupe_call_duration_seconds_bucket', 'troupe_queued_turns', 'troupe_pool_threads', 'troupe_pool_utilization', 'troupe_active_actors', 'troupe_connections']) {
      assert.match(text, new RegExp(`^${name}`, 'm'), `missing ${name}`);
    }
    assert.match(text, /troupe_calls_total\{actor="Counter",node="[^"]+"\} \d+/);
  });

  test('unknown routes → 404, wrong methods → 405', async () => {
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/v1/actors/Counter/k/add`)).status, 405);
  });
});
