/**
 * The README's tutorial, run as written: its files are written out, its
 * commands run, and their output compared with the output the README shows.
 * Only `bin/troupe.js` is made absolute, because the files go to a scratch
 * folder instead of the reader's checkout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import WebSocket from 'ws';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const tutorial = readme.slice(readme.indexOf('## Five-minute tutorial'), readme.indexOf('## The programming model'));
const blocks = [...tutorial.matchAll(/```(\w+)([^\n]*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, info: m[2]!.trim(), body: m[3]! }));
const run = promisify(execFile);

/** A shell block's commands, each with the `# ` lines under it as its expected output. */
function commands(body: string): { cmd: string; expected: string[] }[] {
  const out: { cmd: string; expected: string[] }[] = [];
  for (const line of body.split('\n')) {
    if (line.startsWith('# ')) out.at(-1)?.expected.push(line.slice(2));
    else if (line.trim() !== '' && !line.startsWith('>') && !line.startsWith('<')) out.push({ cmd: line, expected: [] });
  }
  return out;
}

describe('README tutorial', () => {
  const scratch = join(root, '.troupe', `readme-${process.pid}`);
  const bin = join(root, 'bin', 'troupe.js');
  let node: ChildProcess;

  before(async () => {
    mkdirSync(scratch, { recursive: true });
    for (const b of blocks.filter((b) => b.info.startsWith('file='))) {
      const path = join(scratch, b.info.slice('file='.length));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, b.body);
    }
    const start = blocks.flatMap((b) => (b.lang === 'sh' ? commands(b.body) : [])).find((c) => c.cmd.includes('troupe.js start'));
    assert.ok(start, 'the tutorial starts a node');
    const args = start.cmd.replace('node bin/troupe.js', '').trim().split(/\s+/);
    node = spawn(process.execPath, [bin, ...args], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error('node did not start within 20 s')), 20_000);
      let out = '';
      node.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"listening"')) {
          clearTimeout(timer);
          res();
        }
      });
      node.once('exit', (code) => rej(new Error(`node exited with ${code}: ${out}`)));
    });
  });

  after(() => {
    node?.kill('SIGTERM');
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the curl call answers as shown', async () => {
    const curl = blocks.flatMap((b) => (b.lang === 'sh' ? commands(b.body) : [])).find((c) => c.cmd.startsWith('curl'))!;
    const { stdout } = await run('sh', ['-c', curl.cmd], { cwd: scratch });
    assert.deepEqual(stdout.trim().split('\n'), curl.expected);
  });

  test('the SDK client prints what the README shows', async () => {
    const tsx = blocks.flatMap((b) => (b.lang === 'sh' ? commands(b.body) : [])).find((c) => c.cmd.startsWith('npx tsx'))!;
    const script = tsx.cmd.replace('npx tsx', `${process.execPath} ${join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs')}`);
    const { stdout } = await run('sh', ['-c', script], { cwd: scratch });
    assert.deepEqual(stdout.trim().split('\n'), tsx.expected);
  });

  test('the JSON text frames answer as shown', async () => {
    const block = blocks.find((b) => b.body.includes('wscat'))!;
    const lines = block.body.split('\n');
    const url = /-c (\S+)/.exec(block.body)![1]!;
    const ws = new WebSocket(url);
    await new Promise((r) => ws.once('open', r));
    try {
      for (let i = 0; i < lines.length; i++) {
        if (!lines[i]!.startsWith('> ')) continue;
        const answer = new Promise<string>((r) => ws.once('message', (d: Buffer) => r(d.toString())));
        ws.send(lines[i]!.slice(2));
        assert.deepEqual(JSON.parse(await answer), JSON.parse(lines[i + 1]!.slice(2)));
      }
    } finally {
      ws.close();
    }
  });
});
