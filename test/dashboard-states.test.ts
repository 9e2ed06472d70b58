/**
 * The dashboard's own logic, without a cluster: quantiles from histogram
 * buckets, rates from two samples, and member states from peers that answer,
 * refuse or hang (a hung peer costs one deadline and is never waited on twice).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Dashboard, type DashPeer } from '../runtime/dashboard/dashboard.js';
import { EventLog } from '../runtime/dashboard/event-log.js';
import type { NodeStats } from '../runtime/dashboard/node-stats.js';
import { quantileMs, ratesBetween } from '../runtime/dashboard/rates.js';

const BOUNDS = [0.001, 0.01, 0.1];

function stats(id: string, at: number, calls: number, buckets: number[]): NodeStats {
  return {
    id, started: 1, at, state: 'running',
    figures: { calls: { T: calls }, errors: { T: Math.floor(calls / 10) }, bounds: BOUNDS, latency: { T: { counts: buckets, count: buckets.reduce((a, b) => a + b, 0), sum: 0 } } },
    queued: 3, activeActors: 1, connections: 0,
    outbox: { pending: 2, delivered: 0, retries: 0, undeliverable: 0 },
    reminders: { pending: 0, fired: 0, dueSoon: 0 },
    breakers: [], shards: { a: 100, b: 171 },
  };
}

test('quantiles interpolate within a bucket; past the last bound they report it', () => {
  assert.equal(quantileMs(BOUNDS, [0, 0, 0, 0], 0.5), null);
  assert.equal(quantileMs(BOUNDS, [10, 0, 0, 0], 0.5), 0.5);
  // 100 calls: 50 under 1 ms, 50 in 1..10 ms; p99 is 98 % into the second bucket.
  assert.ok(Math.abs(quantileMs(BOUNDS, [50, 50, 0, 0], 0.99)! - (1 + 9 * 0.98)) < 1e-9);
  assert.equal(quantileMs(BOUNDS, [0, 0, 0, 5], 0.5), 100);
});

test('rates come from the difference of two samples over their own clock', () => {
  const r = ratesBetween(stats('a', 0, 100, [100, 0, 0]).figures, stats('a', 2000, 300, [100, 200, 0]).figures, 2);
  assert.equal(r.T!.calls, 100);
  assert.equal(r.T!.errors, 10);
  assert.ok(r.T!.p50! > 1 && r.T!.p50! < 10, `p50 ${r.T!.p50} from the window's calls only`);
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port };
}

test('peers that answer are up, a refusing one is down at once, a hung one suspect then down', async () => {
  let calls = 0;
  const good = await serve((_req, res) => {
    calls += 50;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(stats('b', Date.now(), calls, [calls, 0, 0])));
  });
  const hung = await serve(() => {
    // never answers
  });
  const refusing = await serve(() => {});
  const refusingPort = refusing.port;
  await new Promise((r) => refusing.server.close(r));
  const peers: DashPeer[] = [
    { id: 'a', address: '127.0.0.1', port: 0 },
    { id: 'b', address: '127.0.0.1', port: good.port },
    { id: 'c', address: '127.0.0.1', port: hung.port },
    { id: 'd', address: '127.0.0.1', port: refusingPort },
  ];
  const events = new EventLog();
  let localCalls = 0;
  const dash = new Dashboard({
    selfId: 'a', selfZone: '', events, log: { log() {} }, peerTimeoutMs: 600, tickMs: 60_000,
    local: () => stats('a', Date.now(), (localCalls += 10), [localCalls, 0, 0]),
    members: () => peers,
    peerToken: async () => null,
  });
  const snaps: { nodes: { id: string; state: string; queued?: number; types: Record<string, { calls: number }> }[]; types: Record<string, { calls: number }> }[] = [];
  const sink = { send: (text: string) => snaps.push(JSON.parse(text)) };
  try {
    dash.watch(sink); // the first tick starts at once
    await new Promise((r) => setTimeout(r, 900));
    const started = Date.now();
    await dash.tick();
    assert.ok(Date.now() - started < 1200, 'a hung peer held a tick past its deadline');
    await new Promise((r) => setTimeout(r, 100));
    await dash.tick();
    const states = (i: number): Record<string, string> => Object.fromEntries(snaps[i]!.nodes.map((n) => [n.id, n.state]));
    assert.deepEqual(states(0), { a: 'up', b: 'up', c: 'suspect', d: 'down' });
    assert.deepEqual(states(2), { a: 'up', b: 'up', c: 'down', d: 'down' });
    const last = snaps[2]!;
    assert.equal(last.nodes.find((n) => n.id === 'd')!.queued, undefined, 'a down member shows no stale gauges');
    assert.ok(last.types.T!.calls > 0 && last.nodes.find((n) => n.id === 'b')!.types.T!.calls > 0);
    const texts = events.recent().map((e) => e.text);
    assert.ok(texts.includes('d down (connection refused)'), texts.join('; '));
    assert.ok(texts.includes('c suspect (no answer within 600 ms)') && texts.includes('c down (no answer within 600 ms)'), texts.join('; '));
    // Discovery drops c: it stays listed, down.
    peers.splice(2, 1);
    await dash.tick();
    assert.equal(snaps[3]!.nodes.find((n) => n.id === 'c')!.state, 'down');
  } finally {
    dash.unwatch(sink);
    dash.close();
    hung.server.closeAllConnections();
    await Promise.all([good, hung].map((s) => new Promise((r) => s.server.close(r))));
  }
});
