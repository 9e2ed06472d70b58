/** Lists that must never drift apart: error codes, settings, and the dependency direction between folders. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, HTTP_STATUS } from '../protocol/errors.js';
import { SETTINGS } from '../runtime/config.js';
import { startUsage } from '../runtime/cli/start.js';
import { settingsMarkdown } from '../runtime/settings/table.js';

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

test('the README configuration table is the one the option parser reads, and start --help prints every row of it', () => {
  assert.ok(section('Configuration').includes(`${settingsMarkdown()}\n`), 'README table differs from settingsMarkdown(): paste the output of settingsMarkdown() into README');
  const help = startUsage();
  for (const row of settingsMarkdown().split('\n').slice(2)) {
    const [flag, env, shownDefault, allowed] = row.split(' | ').map((c) => c.replace(/^\| /, '').replace(/`/g, ''));
    const line = help.split('\n').find((l) => l.trimStart().startsWith(`${flag} `) && l.includes(` ${env} `));
    assert.ok(line !== undefined, `start --help shows ${flag} with ${env}`);
    assert.ok(line.includes(`default ${shownDefault}; ${allowed}`), `start --help shows ${env}'s default and allowed values: ${line}`);
  }
});

test('each setting is named for its flag: camel case in code (startNode), TROUPE_ and upper case in the environment', () => {
  for (const [name, s] of Object.entries(SETTINGS)) {
    const words = s.flag.slice(2).split('-');
    assert.equal(name, words[0] + words.slice(1).map((w) => w[0]!.toUpperCase() + w.slice(1)).join(''), `${s.flag}'s name in code`);
    assert.equal(s.env, `TROUPE_${words.join('_').toUpperCase()}`, `${s.flag}'s environment variable`);
  }
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
      assert.ok(!target.startsWith('grid/') || target === 'grid/index.js', `${file} imports ${target}: use grid/index`);
      assert.ok(!target.startsWith('client/'), `${file} imports ${target}`);
    }
  }
});

test('grid/ holds engines only: no launcher or tool there starts processes', () => {
  // Member launchers and measurement scripts live beside the CLI (runtime/cli/) or under bench/.
  for (const file of sources('grid')) {
    const text = readFileSync(join(root, file), 'utf8');
    assert.ok(!/from 'node:child_process'/.test(text), `${file} imports node:child_process: tooling belongs in runtime/cli/ or bench/`);
  }
});

test('the client SDK does not import the runtime or the grid', () => {
  for (const file of sources('client')) {
    for (const target of imports(file)) assert.ok(!target.startsWith('runtime/') && !target.startsWith('grid/'), `${file} imports ${target}`);
  }
});
