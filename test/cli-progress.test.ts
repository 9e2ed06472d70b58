/**
 * The CLI's progress display (runtime/cli/progress.ts): plain `[troupe]`
 * lines with done/failed and times when stderr is not a terminal (CI, pipes),
 * a spinner with check marks on a pseudo-terminal (util-linux `script`), and
 * `troupe hazelcast up`/`down` through the real CLI with their stdout (the
 * lines a shell evaluates) unchanged and all progress on stderr.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, readRunState, stopMember } from '../runtime/cli/hazelcast/members.js';
import { isOurMember } from '../runtime/cli/hazelcast/member-process.js';
import { progressMode } from '../runtime/cli/progress.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = join(root, 'bin', 'troupe.js');
const DEMO = fileURLToPath(new URL('./fixtures/progress-demo.js', import.meta.url));
// Any escape sequence: colours, cursor moves, line erasing.
const ANSI = /\x1b\[/;
/** A colour or dim code, or none (NO_COLOR). */
const SGR = '(?:\\x1b\\[\\d+m)?';
/** The demo's first step pauses 300 ms. */
const AT_LEAST_300_MS = '(?:0\\.[3-9]|[1-9]\\d*\\.\\d) s';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((done) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 1 << 22 }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

function explain(r: Run): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** The environment without CI: it turns the spinner off, and the pseudo-terminal checks need it on. */
function withoutCi(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.CI;
  return env;
}

test('piped: plain [troupe] lines, a start and an end line per step, no escape codes, stdout apart', async () => {
  const r = await run(process.execPath, [DEMO], withoutCi(), 10_000);
  assert.equal(r.code, 1, explain(r));
  assert.equal(r.stdout, 'DEMO_MEMBERS=127.0.0.1:1\n', 'stdout holds only what the command prints for a shell');
  assert.doesNotMatch(r.stderr, ANSI, explain(r));
  const lines = r.stderr.trimEnd().split('\n');
  const expected = [
    /^\[troupe\] starting the demo$/,
    /^\[troupe\] getting the demo jar \.\.\.$/,
    /^\[troupe\]   cached \/tmp\/demo\.jar$/,
    new RegExp(`^\\[troupe\\] getting the demo jar \\.\\.\\. done \\(${AT_LEAST_300_MS}\\)$`),
    /^\[troupe\] starting demo member 1 of 2 \.\.\.$/,
    /^\[troupe\] starting demo member 1 of 2 \.\.\. done \(\d+\.\d s\)$/,
    /^\[troupe\] starting demo member 2 of 2 \.\.\.$/,
    /^\[troupe\] starting demo member 2 of 2 \.\.\. failed \(\d+\.\d s\)$/,
    /^demo: boom$/,
  ];
  assert.equal(lines.length, expected.length, explain(r));
  lines.forEach((line, i) => assert.match(line, expected[i]!, explain(r)));
});

test('CI=true, TERM=dumb, TROUPE_PROGRESS=plain or no width: plain lines even on a terminal', () => {
  // Checked without a terminal (the mode depends on the stream's isTTY and columns and the environment only).
  const tty = { isTTY: true, columns: 100 } as NodeJS.WriteStream;
  assert.equal(progressMode(tty, {}), 'spinner');
  assert.equal(progressMode(tty, { CI: 'true' }), 'plain');
  assert.equal(progressMode(tty, { CI: 'false' }), 'spinner');
  assert.equal(progressMode(tty, { TERM: 'dumb' }), 'plain');
  assert.equal(progressMode(tty, { TROUPE_PROGRESS: 'plain' }), 'plain');
  assert.equal(progressMode({ isTTY: true, columns: 0 } as NodeJS.WriteStream, {}), 'plain');
  assert.equal(progressMode({ isTTY: false } as unknown as NodeJS.WriteStream, {}), 'plain');
});

const script = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v script'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
})();
const ptySkip = script === undefined ? { skip: 'no `script` binary (util-linux) to run the demo under a pseudo-terminal' } : {};

/** The demo under a pseudo-terminal of `cols` columns; `script` prints what the terminal got. */
function underPty(cols: number, env: NodeJS.ProcessEnv): Promise<Run> {
  const command = `stty cols ${cols} rows 30; exec '${process.execPath}' '${DEMO}'`;
  return run(script!, ['-qec', command, '/dev/null'], env, 15_000);
}

test('on a terminal: a spinner, erased frames, a check mark per step done and a cross for the failed one', ptySkip, async () => {
  const r = await underPty(100, withoutCi({ TERM: 'xterm-256color' }));
  assert.equal(r.code, 1, explain(r));
  const out = r.stdout;
  assert.match(out, /\x1b\[\?25l/, 'hides the cursor while it spins');
  assert.match(out, /\x1b\[\?25h/, 'shows the cursor again');
  assert.match(out, /\x1b\[1G\x1b\[0K/, 'erases the spinner line before redrawing it');
  assert.match(out, new RegExp(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏|/\\\\-]${SGR} getting the demo jar`, 'u'), 'a spinner frame before the title');
  assert.match(out, new RegExp(`[✔√]${SGR} getting the demo jar ${SGR}\\(${AT_LEAST_300_MS}\\)`, 'u'), 'a check mark with the time');
  assert.match(out, new RegExp(`[✖×]${SGR} starting demo member 2 of 2 ${SGR}\\(failed after \\d+\\.\\d s\\)`, 'u'), 'a cross for the failed step');
  assert.match(out, /cached \/tmp\/demo\.jar/, 'details are kept above the spinner');
  assert.doesNotMatch(out, /\[troupe\]/, 'no plain-line prefix on a terminal');
  assert.match(out, /DEMO_MEMBERS=127\.0\.0\.1:1/);
});

test('NO_COLOR on a terminal: still a spinner, no colours', ptySkip, async () => {
  const r = await underPty(100, withoutCi({ TERM: 'xterm-256color', NO_COLOR: '1' }));
  assert.equal(r.code, 1, explain(r));
  assert.match(r.stdout, /\x1b\[1G\x1b\[0K/, 'the spinner is drawn');
  assert.doesNotMatch(r.stdout, /\x1b\[(3\d|2|22|39)m/, 'no colour or dim codes');
});

test('a terminal of no width gets plain lines (ora would loop erasing Infinity lines)', ptySkip, async () => {
  const r = await underPty(0, withoutCi({ TERM: 'xterm-256color' }));
  assert.equal(r.code, 1, explain(r));
  assert.match(r.stdout, /\[troupe\] getting the demo jar \.\.\. done/);
  assert.doesNotMatch(r.stdout, ANSI);
});

const dir = mkdtempSync(join(tmpdir(), 'troupe-progress-'));
after(async () => {
  // Whatever the test left running, stopped by PID (only while it is still that member).
  for (const m of readRunState(dir)?.members ?? []) if (isOurMember(m.pid, m.port)) await stopMember(m.pid, 2_000);
  rmSync(dir, { recursive: true, force: true });
});

test('troupe hazelcast up and down, piped: steps on stderr, the shell lines alone on stdout', { timeout: 180_000 }, async () => {
  const port = await freePort();
  const cluster = `progress-${process.pid}`;
  const up = await run(process.execPath, [BIN, 'hazelcast', 'up', '--members', '1', '--port', String(port), '--heap', '128', '--cluster', cluster, '--dir', dir], process.env, 150_000);
  assert.equal(up.code, 0, explain(up));
  assert.equal(up.stdout, `TROUPE_HAZELCAST_MEMBERS=127.0.0.1:${port}\nTROUPE_HAZELCAST_CLUSTER=${cluster}\n`, explain(up));
  assert.doesNotMatch(up.stderr, ANSI, explain(up));
  for (const step of ['getting the Hazelcast jar (downloaded once, then cached)', "getting Troupe's member jar (built once per source change)", 'starting hazelcast member 1 of 1', `forming cluster '${cluster}'`]) {
    const escaped = step.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(up.stderr, new RegExp(`^\\[troupe\\] ${escaped}.* \\.\\.\\.$`, 'm'), `start line of '${step}'\n${explain(up)}`);
    assert.match(up.stderr, new RegExp(`^\\[troupe\\] ${escaped}.* \\.\\.\\. done \\(\\d+\\.\\d s\\)$`, 'm'), `done line of '${step}'\n${explain(up)}`);
  }
  assert.match(up.stderr, new RegExp(`^\\[troupe\\]   127\\.0\\.0\\.1:${port} \\(pid \\d+, log `, 'm'), 'the member step names its address, PID and log');
  assert.match(up.stderr, /^\[troupe\] ready in \d+\.\d s/m);

  const down = await run(process.execPath, [BIN, 'hazelcast', 'down', '--dir', dir], process.env, 60_000);
  assert.equal(down.code, 0, explain(down));
  assert.equal(down.stdout, '');
  assert.match(down.stderr, new RegExp(`^\\[troupe\\] stopping 1 member\\(s\\) of cluster '${cluster}' \\.\\.\\. done \\(\\d+\\.\\d s\\)$`, 'm'), explain(down));
  assert.match(down.stderr, new RegExp(`^\\[troupe\\]   stopped 127\\.0\\.0\\.1:${port} `, 'm'), explain(down));
});
