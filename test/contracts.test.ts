/** Lists that must never drift apart: error codes, settings, and the dependency direction between folders. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, HTTP_STATUS } from '../protocol/errors.js';
import { SETTINGS } from '../runtime/config.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

function section(title: string): string {
  const start = readme.indexOf(`## ${title}`);
  assert.ok(start >= 0, `README has a "${title}" section`);
  const end = readme.indexOf('\n## ', start + 3);
  return readme.slice(start, end < 0 ? undefined : end);
}

test('the README error table lists exactly the protocol\'s codes, with their HTTP statuses', () => {
  const rows = [...section('Error codes').matchAll(/^\| `(E_[A-Z_]+)` \| (\d+) \|/gm)].map((m) => [m[1], Number(m[2])]);
  assert.deepEqual(rows.map((r) => r[0]).sort(), [...ERROR_CODES].sort());
  for (const [code, status] of rows) assert.equal(status, HTTP_STATUS[code as keyof typeof HTTP_STATUS], `${code}'s status`);
});

test('the README configuration table lists every setting with its flag and environment variable', () => {
  const rows = [...section('Configuration').matchAll(/^\| `(--[a-z-]+)` \| `(TROUPE_[A-Z_]+)` \|/gm)].map((m) => `${m[1]} ${m[2]}`);
  const settings = Object.values(SETTINGS).map((s) => `${s.flag} ${s.env}`);
  assert.deepEqual([...rows].sort(), [...settings].sort());
});

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(root, dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(relative(root, path)));
    else if (/\.(ts|cts)$/.test(name) && !name.endsWith('.d.ts')) out.push(relative(root, path));
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g)].map((m) =>
    relative(root, resolve(root, dirname(file), m[1] ?? m[2]!)),
  );
}

test('actors/ and protocol/ import nothing else of Troupe\'s', () => {
  for (const [folder, allowed] of [['actors', ['actors']], ['protocol', ['protocol']]] as const) {
    for (const file of sources(folder)) {
      for (const target of imports(file)) {
        assert.ok(allowed.some((a) => target.startsWith(a + '/')), `${file} imports ${target}`);
      }
    }
  }
});

test('grid/ does not import the runtime, and the runtime reaches grid engines only through grid/index', () => {
  for (const file of sources('grid')) {
    for (const target of imports(file)) assert.ok(!target.startsWith('runtime/') && !target.startsWith('client/'), `${file} imports ${target}`);
  }
  for (const file of sources('runtime')) {
    for (const target of imports(file)) {
      // The CLI may drive local Hazelcast members through their tooling's own entry; the node never does.
      const memberTooling = file.startsWith('runtime/cli/') && target === 'grid/hazelcast/members.js';
      assert.ok(!target.startsWith('grid/') || target === 'grid/index.js' || memberTooling, `${file} imports ${target}: use grid/index`);
      assert.ok(!target.startsWith('client/'), `${file} imports ${target}`);
    }
  }
});

test('the client SDK does not import the runtime or the grid', () => {
  for (const file of sources('client')) {
    for (const target of imports(file)) assert.ok(!target.startsWith('runtime/') && !target.startsWith('grid/'), `${file} imports ${target}`);
  }
});
