/** npm test's last lines: the failed tests by file and full name, with the runner's exit code kept. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function runTests(files: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // Without this the inner runner believes it is a file of this run and runs nothing.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--test', '--test-reporter=tap', '--test-reporter-destination=stdout', '--test-reporter=./dist/test/reporters/failed-tests.js', '--test-reporter-destination=stderr', ...files],
      { cwd: root, env, timeout: 60_000 },
      (err, stdout, stderr) => done({ code: err === null ? 0 : (err.code as number), stdout, stderr }),
    );
  });
}

test('a failing run ends with each failed test named by file and suite path, and exits 1', async () => {
  const r = await runTests(['dist/test/fixtures/failing-sample.js', 'dist/test/fixtures/crashing-sample.js']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^TAP version 13/, 'the usual report is still on stdout');
  const tail = r.stderr.slice(r.stderr.indexOf('[test] '));
  assert.equal(tail.split('\n')[0], '[test] 2 failed tests (2 passed):');
  assert.match(tail, /✗ dist\/test\/fixtures\/failing-sample\.js: outer suite › inner suite › a failing test\n {6}one is not two:\n {6}the first reason\n {6}the second reason/, 'a reason ending its first line with a colon keeps the lines after it');
  assert.match(tail, /✗ dist\/test\/fixtures\/crashing-sample\.js: \(the file itself: it failed outside any test\)/);
  assert.doesNotMatch(tail, /✗ .*: outer suite\n/, 'a suite that failed only because its test did is not listed again');
});

test('a passing run says so and exits 0', async () => {
  const r = await runTests(['dist/test/fixtures/passing-sample.js']);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /\[test\] no failed tests \(1 passed\)/);
});

test('scripts/test.sh runs every file with the failed-tests reporter beside the usual one', () => {
  const script = readFileSync(join(root, 'scripts/test.sh'), 'utf8');
  assert.match(script, /--test-reporter=\.\/dist\/test\/reporters\/failed-tests\.js --test-reporter-destination=stderr/);
  assert.match(script, /--test-reporter="\$main_reporter" --test-reporter-destination=stdout/);
});
