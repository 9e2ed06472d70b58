/**
 * The SDK's browser build (troupe/client/browser) in a real browser: headless
 * Chromium (driven by playwright-core) opens examples/browser/index.html from
 * a static server on one origin and calls a node on another, over WebSocket
 * with the bundle and over HTTP with fetch, which only a node listing the
 * page's origin in --allowed-origins lets through.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { TroupeNode } from '../runtime/node.js';
import { serveExample } from '../examples/browser/serve.js';
import { startNode } from './fixtures/node.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLE = join(root, 'dist', 'client', 'browser.bundle.js');
const CHROMIUM = process.env.TROUPE_CHROMIUM ?? '/usr/bin/chromium';
// No GPU, QUIC, sandbox (root in a container), first-run or background traffic: only the page's own requests.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

test('the browser bundle is one self-contained ES module: no bare imports, no Node built-ins, no ws', () => {
  assert.ok(existsSync(BUNDLE), 'no dist/client/browser.bundle.js: npm run build (or node scripts/build-browser-client.mjs after tsc) builds it');
  const code = readFileSync(BUNDLE, 'utf8');
  assert.doesNotMatch(code, /\bfrom\s*["'][^./]/, 'a static import of a package');
  assert.doesNotMatch(code, /\bimport\s*\(\s*["'][^./]/, 'a dynamic import of a package');
  assert.doesNotMatch(code, /["']node:|require\(\s*["']ws["']\)/);
  assert.match(code, /export\s*\{[^}]*\bconnect\b/);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { default: string }> };
  assert.equal(pkg.exports['./client/browser']?.default, './dist/client/browser.bundle.js');
});

describe('browser client in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (npm test installs it: scripts/fetch-chromium.sh; or set TROUPE_CHROMIUM)` }, () => {
  let site: { server: Server; port: number };
  let origin: string;
  let open: TroupeNode;
  let closed: TroupeNode;
  let context: BrowserContext;
  let profile: string;

  before(async () => {
    site = await serveExample(0);
    origin = `http://127.0.0.1:${site.port}`;
    open = await startNode(['--allowed-origins', origin]);
    closed = await startNode();
    profile = mkdtempSync(join(tmpdir(), 'troupe-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
  });

  after(async () => {
    await context?.close();
    await open?.stop();
    await closed?.stop();
    await new Promise((r) => site?.server.close(r));
    if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  });

  async function openPage(node: TroupeNode, key: string): Promise<{ page: Page; errors: string[] }> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${origin}/?node=ws://127.0.0.1:${node.port}/v1/ws&key=${key}`);
    await page.locator('#status', { hasText: /^connected$/ }).waitFor({ timeout: 20_000 });
    return { page, errors };
  }

  const total = (page: Page, value: string): Promise<void> => page.locator('#total', { hasText: new RegExp(`^${value}$`) }).waitFor({ timeout: 10_000 });

  test('the page calls Counter over WebSocket with the bundle, and over HTTP when its origin is allowed', async () => {
    const { page, errors } = await openPage(open, 'page-1');
    try {
      await total(page, '0');
      await page.click('#add');
      await total(page, '1');
      await page.click('#add');
      await total(page, '2');
      await page.click('#add-http');
      await total(page, '12');
      assert.equal(await page.locator('#error').textContent(), '');
      assert.deepEqual(errors, []);
      // The node saw the same calls.
      const r = await fetch(`http://127.0.0.1:${open.port}/v1/actors/Counter/page-1/get`, { method: 'POST', body: '[]' });
      assert.deepEqual(await r.json(), { value: 12 });
    } finally {
      await page.close();
    }
  });

  test('a node without --allowed-origins: WebSocket still works, the browser refuses the HTTP call (CORS)', async () => {
    const { page } = await openPage(closed, 'page-2');
    try {
      await page.click('#add');
      await total(page, '1');
      await page.click('#add-http');
      await page.locator('#error', { hasText: /^CORS: / }).waitFor({ timeout: 10_000 });
      await total(page, '1');
      const r = await fetch(`http://127.0.0.1:${closed.port}/v1/actors/Counter/page-2/get`, { method: 'POST', body: '[]' });
      assert.deepEqual(await r.json(), { value: 1 }, 'the refused call never reached the node');
    } finally {
      await page.close();
    }
  });
});
