/**
 * What `npm install troupe` brings: the runtime's own dependencies and
 * nothing only the tests or benchmarks use; the package holds the built
 * library, the CLI and the files the CLI reads at run time, not the tests,
 * benchmarks or source maps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(root, dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(relative(root, path)));
    else if (/\.(ts|cts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(relative(root, path));
  }
  return out;
}

/** Bare package names a set of files imports or resolves (node: builtins left out): `createRequire(...).resolve('uplot')` counts, the dashboard serves that package's files. */
function packagesImportedBy(files: string[]): Set<string> {
  const out = new Set<string>();
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\(\s*|(?:require|\))\.resolve\(\s*)'([^'.][^']*)'/g)) {
      const spec = m[1]!;
      // Not a package name (an import written inside a template string, as a test's generated module has).
      if (!/^(@[\w.-]+\/)?[\w.-]+(\/[\w./-]*)?$/.test(spec)) continue;
      if (spec.startsWith('node:') || spec === 'troupe' || spec.startsWith('troupe/')) continue;
      out.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return out;
}

const SHIPPED = ['actors', 'protocol', 'grid', 'runtime', 'client', 'examples'];

test('every dependency is used by shipped code; packages only the tests or benchmarks use are devDependencies', () => {
  const shipped = packagesImportedBy(SHIPPED.flatMap(sources));
  const testOnly = [...packagesImportedBy([...sources('test'), ...sources('bench')])].filter((p) => !shipped.has(p));
  for (const dep of Object.keys(pkg.dependencies)) assert.ok(shipped.has(dep), `dependency ${dep} is imported by no shipped code: move it to devDependencies`);
  for (const p of testOnly) {
    assert.ok(!(p in pkg.dependencies), `${p} is used only by tests or benchmarks: it belongs in devDependencies`);
    assert.ok(p in pkg.devDependencies, `${p} is imported by tests or benchmarks but not declared`);
  }
  for (const p of ['moleculer', 'fast-check', 'typescript']) assert.ok(p in pkg.devDependencies && !(p in pkg.dependencies), p);
});

test('the package holds the built library and what the CLI reads at run time, not tests, benchmarks or source maps', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--ignore-scripts', '--json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const files = new Set((JSON.parse(out) as [{ files: { path: string }[] }])[0].files.map((f) => f.path));
  for (const f of files) {
    assert.ok(!f.startsWith('dist/test/') && !f.startsWith('dist/bench/') && !f.startsWith('test/') && !f.startsWith('bench/'), `${f} is test or benchmark code`);
    assert.ok(!f.endsWith('.map'), `${f}: the sources it maps are not shipped`);
  }
  for (const f of [
    'bin/troupe.js', 'dist/actors/index.js', 'dist/actors/index.d.ts', 'dist/client/index.js', 'dist/runtime/index.js', 'dist/runtime/index.d.ts', 'dist/runtime/cli.js',
    'dist/grid/index.js', 'dist/protocol/index.js', 'dist/examples/counter/counter.js',
    // Read by `troupe hazelcast up` and `troupe cluster up` (runtime/cli/*/paths.ts).
    'scripts/fetch-hazelcast.sh', 'scripts/fetch-consul.sh', 'scripts/fetch-postgres.sh', 'scripts/lib/apt-package.sh', 'scripts/build-member-store.sh',
    // Read by the Kafka broker launcher (runtime/cli/kafka/), which benches and embedding programs' tests use.
    'scripts/fetch-kafka.sh',
    'grid/hazelcast/member/hazelcast.xml', 'grid/hazelcast/member/store/pom.xml',
  ]) {
    if (f.startsWith('dist/')) assert.ok(statSync(join(root, f)).isFile(), `${f} is built (run tsc first)`);
    assert.ok(files.has(f), `the package holds ${f}`);
  }
});
