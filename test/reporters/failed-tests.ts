/**
 * A node --test reporter that prints, once every file has run, the tests
 * that failed, by file and full name, so the end of `npm test` says what to
 * look at instead of only counts. It sits beside the usual reporter
 * (scripts/test.sh passes both) and changes no exit code.
 */
import { resolve } from 'node:path';

interface TestEventData {
  readonly name: string;
  readonly nesting: number;
  readonly file?: string;
  readonly details?: { readonly type?: string; readonly error?: { readonly failureType?: string; readonly message?: string; readonly cause?: unknown } };
}

interface TestEvent {
  readonly type: string;
  readonly data: TestEventData;
}

export interface FailedTest {
  readonly file: string;
  readonly path: readonly string[];
  readonly reason: string;
}

function reasonOf(data: TestEventData): string {
  const error = data.details?.error;
  const cause = error?.cause as { message?: string } | string | undefined;
  const text = (typeof cause === 'string' ? cause : cause?.message) ?? error?.message ?? '';
  // The first lines, not only the first: a message that ends its first line with ':' (a list
  // of violations, say) says nothing without what follows.
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(0, MAX_REASON_LINES)
    .map((l) => l.slice(0, 160))
    .join('\n');
}

const MAX_REASON_LINES = 8;

/** Collects failures from the runner's events: leaves only (a suite failing because its tests did is not listed again). */
export function collectFailures(): { readonly failed: FailedTest[]; readonly passed: () => number; see(event: TestEvent): void } {
  const failed: FailedTest[] = [];
  // Per file, the names of the tests enclosing the current one (tests of one file run in order).
  const stacks = new Map<string, string[]>();
  let passed = 0;
  return {
    failed,
    passed: () => passed,
    see(event) {
      const { data } = event;
      const file = data.file ?? '';
      const stack = stacks.get(file) ?? [];
      stacks.set(file, stack);
      if (event.type === 'test:start') {
        stack.length = data.nesting;
        stack[data.nesting] = data.name;
      } else if (event.type === 'test:pass') {
        if (data.details?.type !== 'suite') passed++;
      } else if (event.type === 'test:fail') {
        if (data.details?.error?.failureType === 'subtestsFailed') return;
        // A file that failed outside any test is reported under its own path as the name
        // (absolute on Node 20, relative to the working folder on Node 22).
        const path = data.nesting === 0 && (data.name === file || resolve(data.name) === file) ? [] : [...stack.slice(0, data.nesting), data.name];
        failed.push({ file, path, reason: reasonOf(data) });
      }
    },
  };
}

export function formatFailures(failed: readonly FailedTest[], passed: number, cwd = process.cwd()): string {
  if (failed.length === 0) return `[test] no failed tests (${passed} passed)\n`;
  const lines = [`[test] ${failed.length} failed test${failed.length === 1 ? '' : 's'} (${passed} passed):`];
  for (const f of failed) {
    const file = f.file.startsWith(`${cwd}/`) ? f.file.slice(cwd.length + 1) : f.file;
    const name = f.path.length === 0 ? '(the file itself: it failed outside any test)' : f.path.join(' › ');
    lines.push(`  ✗ ${file}: ${name}${f.reason === '' ? '' : `\n      ${f.reason.split('\n').join('\n      ')}`}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The reporter: node --test --test-reporter=dist/test/reporters/failed-tests.js. */
export default async function* failedTestsReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const c = collectFailures();
  for await (const event of source) c.see(event);
  yield formatFailures(c.failed, c.passed());
}
