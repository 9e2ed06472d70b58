/**
 * The dashboard (/dash) of a three-node cluster (real Consul agent, real
 * Hazelcast member, auth on) in headless Chromium: the members and per-type
 * call rates it shows agree with the nodes' /metrics, a node killed with
 * SIGKILL shows as down within 3 s, and its screenshot is not blank.
 *
 * TROUPE_DASH_SCREENSHOT=<path> also saves the screenshot there (how
 * docs/dashboard.png is made).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { connect, type TroupeClient } from '../client/index.js';
import { startConsulAgent, type ConsulAgent } from './fixtures/consul.js';
import { startHazelcast, type HazelcastFixture } from './fixtures/hazelcast.js';
import { spawnNode, type NodeProcess } from './fixtures/node-process.js';
import { pngColours } from './fixtures/png.js';

const CHROMIUM = process.env.TROUPE_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CLUSTER_SECRET = 'test-dashboard-cluster-secret-0123';
const AUTH_SECRET = 'dashboard-auth-secret-of-at-least-32-chars';
const ZONES: Record<string, string> = { n1: 'zone-a', n2: 'zone-b', n3: 'zone-c' };
/** Shown rate vs /metrics over the same 5 s: within 25 % (or 3 calls/s for small rates). */
const RELATIVE_TOLERANCE = 0.25;
const ABSOLUTE_TOLERANCE = 3;

const token = (): Promise<string> =>
  new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('dash-test').setIssuedAt().setExpirationTime(Math.floor(Date.now() / 1000) + 600).sign(new TextEncoder().encode(AUTH_SECRET));

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check().catch(() => false)) return Date.now() - start;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

/** `troupe_calls_total` by actor type, and the `node` label, from one node's /metrics. */
async function scrape(node: NodeProcess, jwt: string): Promise<{ node: string; calls: Record<string, number> }> {
  const text = await (await fetch(`${node.http}/metrics`, { headers: { authorization: `Bearer ${jwt}` } })).text();
  const calls: Record<string, number> = {};
  let id = '';
  for (const m of text.matchAll(/^troupe_calls_total\{actor="([^"]+)",node="([^"]+)"\} (\d+(?:\.\d+)?)$/gm)) {
    calls[m[1]!] = Number(m[3]);
    id = m[2]!;
  }
  id ||= /node="([^"]+)"/.exec(text)?.[1] ?? '';
  return { node: id, calls };
}

/**
 * Calls at a steady pace through every node until `stop()` (bounded: 40 s, 6,000 calls):
 * about 60/s Counter.add and 30/s Log.where.
 */
function steadyLoad(clients: TroupeClient[]): { stop: () => Promise<{ sent: number; failed: number }> } {
  let stopped = false;
  let sent = 0;
  let failed = 0;
  const inflight = new Set<Promise<unknown>>();
  const deadline = Date.now() + 40_000;
  const fire = (p: Promise<unknown>): void => {
    sent++;
    const q = p.catch(() => void failed++).finally(() => inflight.delete(q));
    inflight.add(q);
  };
  const running = (async () => {
    for (let round = 0; !stopped && Date.now() < deadline && sent < 6000; round++) {
      if (inflight.size < 200) {
        for (let i = 0; i < 6; i++) fire(clients[i % clients.length]!.call('Counter', `dash-${(round * 6 + i) % 40}`, 'add', [1]));
        for (let i = 0; i < 3; i++) fire(clients[i % clients.length]!.call('Log', `dash-log-${i}`, 'where', []));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await running;
      await Promise.allSettled([...inflight]);
      return { sent, failed };
    },
  };
}

describe('dashboard of a three-node cluster in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (npm test installs it: scripts/fetch-chromium.sh; or set TROUPE_CHROMIUM)` }, () => {
  let consul: ConsulAgent;
  let hz: HazelcastFixture;
  const nodes = new Map<string, NodeProcess>();
  const clients: TroupeClient[] = [];
  let context: BrowserContext;
  let profile: string;
  let shots: string;
  let page: Page;
  let jwt: string;

  before(async () => {
    jwt = await token();
    [consul, hz] = await Promise.all([startConsulAgent(), startHazelcast({ members: 1 })]);
    await Promise.all(['n1', 'n2', 'n3'].map(async (id) => {
      nodes.set(id, await spawnNode(
        ['--node-id', id, '--zone', ZONES[id]!, '--discovery', 'consul', '--consul', consul.url, '--link-port', '0', '--grid', 'hazelcast', '--hazelcast-cluster', hz.clusterName, '--hazelcast-members', hz.addresses.join(','), '--hazelcast-invocation-timeout', '4000'],
        { TROUPE_CLUSTER_SECRET: CLUSTER_SECRET, TROUPE_AUTH_SECRET: AUTH_SECRET, TROUPE_NODE_ID: id },
      ));
    }));
    await until('every node lists three members', async () => {
      for (const n of nodes.values()) {
        const r = (await (await fetch(`${n.http}/health/ready`)).json()) as { status: string; cluster?: { members: string[] } };
        if (r.status !== 'ready' || r.cluster?.members.length !== 3) return false;
      }
      return true;
    }, 30_000);
    profile = mkdtempSync(join(tmpdir(), 'troupe-dash-chromium-'));
    shots = mkdtempSync(join(tmpdir(), 'troupe-dash-shots-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000, viewport: { width: 1400, height: 1000 } });
  });

  after(async () => {
    await context?.close();
    for (const c of clients) await c.close().catch(() => {});
    for (const n of nodes.values()) await n.stop(3000);
    await hz?.stop();
    await consul?.stop();
    for (const d of [profile, shots]) if (d !== undefined) rmSync(d, { recursive: true, force: true });
  });

  const rows = async (): Promise<{ id: string; state: string; shards: string }[]> =>
    page.locator('[data-testid="member-row"]').evaluateAll((trs) => trs.map((tr) => ({
      id: tr.getAttribute('data-member') ?? '',
      state: tr.getAttribute('data-state') ?? '',
      shards: tr.querySelector('[data-testid="member-shards"]')?.textContent ?? '',
    })));
  const shownRates = async (): Promise<Record<string, number>> =>
    page.locator('[data-testid="type-row"]').evaluateAll((trs) => Object.fromEntries(trs.map((tr) => [
      tr.getAttribute('data-type') ?? '',
      Number(tr.querySelector('[data-testid="type-calls"]')?.getAttribute('data-value')),
    ])));

  test('without a token the page, its figures and its socket are refused', async () => {
    const n1 = nodes.get('n1')!;
    assert.equal((await fetch(`${n1.http}/dash`)).status, 401);
    assert.equal((await fetch(`${n1.http}/dash/node.json`)).status, 401);
    assert.equal((await fetch(`${n1.http}/dash?token=not-a-jwt`)).status, 401);
    assert.equal((await fetch(`${n1.http}/dash?token=${jwt}`)).status, 200);
    // Assets carry no data: served to anyone (the page needs them before it has a socket).
    assert.equal((await fetch(`${n1.http}/dash/uplot.js`)).status, 200);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${n1.port}/dash/ws`);
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('error', () => {});
    });
    assert.equal(status, 401, 'a socket without a token was not refused with 401');
  });

  test('members and per-type call rates agree with /metrics', async () => {
    page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${nodes.get('n1')!.http}/dash?token=${jwt}`);
    await page.locator('[data-testid="status"]', { hasText: /^live$/ }).waitFor({ timeout: 10_000 });
    await until('three members shown up', async () => (await rows()).filter((r) => r.state === 'up').length === 3, 10_000);

    for (const n of nodes.values()) clients.push(await connect({ urls: [n.url], token: jwt, timeout: 10_000, autoIdem: true, retry: { attempts: 5, baseMs: 50, maxMs: 300 } }));
    const load = steadyLoad(clients);
    try {
      // Let the dashboard's 5 s window fill with steady load, then compare the same 5 s.
      await new Promise((r) => setTimeout(r, 5500));
      const t0 = Date.now();
      const before = await Promise.all([...nodes.values()].map((n) => scrape(n, jwt)));
      await new Promise((r) => setTimeout(r, 5000));
      const t1 = Date.now();
      const later = await Promise.all([...nodes.values()].map((n) => scrape(n, jwt)));
      // The page's figures from the snapshot after t1 cover about the same 5 s.
      await page.waitForFunction((n) => Number(document.body.dataset.snapshots) > n, await page.evaluate(() => Number(document.body.dataset.snapshots)), { timeout: 3000 });
      const shown = await shownRates();
      const seconds = (t1 - t0) / 1000;
      const measured: Record<string, number> = {};
      for (let i = 0; i < later.length; i++) {
        for (const [type, n] of Object.entries(later[i]!.calls)) measured[type] = (measured[type] ?? 0) + (n - (before[i]!.calls[type] ?? 0)) / seconds;
      }
      console.log(`dashboard calls/s: ${JSON.stringify(shown)}; /metrics over ${seconds.toFixed(1)} s: ${JSON.stringify(Object.fromEntries(Object.entries(measured).map(([k, v]) => [k, Number(v.toFixed(1))])))}`);
      for (const type of ['Counter', 'Log']) {
        const m = measured[type] ?? 0;
        const s = shown[type];
        assert.ok(m > 10, `${type}: /metrics shows only ${m} calls/s: the load did not run`);
        assert.ok(s !== undefined && Math.abs(s - m) <= Math.max(RELATIVE_TOLERANCE * m, ABSOLUTE_TOLERANCE), `${type}: dashboard shows ${s} calls/s, /metrics ${m.toFixed(1)}`);
      }
      // Members: the nodes whose /metrics answer (their node label), with the shards n1's placement gives each.
      const ready = (await (await fetch(`${nodes.get('n1')!.http}/health/ready`)).json()) as { cluster: { shards: Record<string, number> } };
      const shownRows = await rows();
      assert.deepEqual(shownRows.map((r) => r.id).sort(), later.map((m) => m.node).sort());
      for (const r of shownRows) assert.equal(Number(r.shards), ready.cluster.shards[r.id], `shards of ${r.id}`);
      const zones = await page.locator('[data-testid="member-row"] td:nth-child(2)').allTextContents();
      assert.deepEqual(zones, ['zone-a', 'zone-b', 'zone-c']);
    } finally {
      const { sent, failed } = await load.stop();
      console.log(`load: ${sent} calls sent, ${failed} failed`);
    }
    assert.deepEqual(errors, []);
  });

  test('a node killed with SIGKILL shows as down within 3 s; the screenshot is not blank', async () => {
    const victim = nodes.get('n3')!;
    const killedAt = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    const tookMs = await until('n3 shown down', async () => (await rows()).find((r) => r.id === 'n3')?.state === 'down', 3000, 50);
    console.log(`n3 shown down ${tookMs} ms after its kill`);
    await victim.exited();
    nodes.delete('n3');
    assert.ok(Date.now() - killedAt < 3500);
    await page.locator('[data-testid="events"] li', { hasText: 'n3 down' }).first().waitFor({ timeout: 2000 });
    // The survivors' rows still live: the page keeps working with members gone.
    assert.deepEqual((await rows()).filter((r) => r.state === 'up').map((r) => r.id), ['n1', 'n2']);

    await new Promise((r) => setTimeout(r, 1200)); // one more snapshot, so the charts show the drop
    const file = join(shots, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    const png = readFileSync(file);
    const { width, height, distinct, dominantShare } = pngColours(png);
    console.log(`screenshot ${width}x${height}, ${png.length} bytes, ${distinct} colours, commonest ${(dominantShare * 100).toFixed(1)} %`);
    assert.ok(width >= 800 && height >= 600, `screenshot is ${width}x${height}`);
    assert.ok(distinct >= 16, `only ${distinct} distinct colours: blank`);
    assert.ok(dominantShare < 0.97, `${(dominantShare * 100).toFixed(1)} % of the pixels are one colour: blank`);
    if (process.env.TROUPE_DASH_SCREENSHOT) copyFileSync(file, process.env.TROUPE_DASH_SCREENSHOT);
  });

  test('down to one: with n2 killed too, the page served by n1 goes on', async () => {
    const victim = nodes.get('n2')!;
    process.kill(victim.pid, 'SIGKILL');
    await until('n2 shown down', async () => (await rows()).find((r) => r.id === 'n2')?.state === 'down', 3000, 50);
    await victim.exited();
    nodes.delete('n2');
    // n1 takes every shard once discovery drops n2 (Consul's check: about a second).
    const alone = JSON.stringify([
      { id: 'n1', state: 'up', shards: '271' },
      { id: 'n2', state: 'down', shards: '0' },
      { id: 'n3', state: 'down', shards: '0' },
    ]);
    let last = '';
    await until('n1 shown alone with every shard', async () => (last = JSON.stringify(await rows())) === alone, 8000).catch((err: Error) => {
      throw new Error(`${err.message}; last shown: ${last}`);
    });
    assert.equal(await page.locator('[data-testid="status"]').textContent(), 'live');
    await page.close();
  });
});
