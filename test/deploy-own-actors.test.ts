/**
 * README "Deploying your own actors", done as a new user would: `npm pack` of
 * this tree installed with `npm install --omit=dev` into an empty project, the
 * README's TypeScript actor and tsconfig written there, then the node started
 * three ways: the .ts file on a Node that strips types itself (22.18+: loads
 * with nothing more installed), the .ts file on one that does not (Node 20:
 * refused with one line saying what to install), and compiled with tsc. The
 * image (deploy/docker/Dockerfile.app) is built and run when a container
 * engine answers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Deploying your own actors'), readme.indexOf('## Calling from a browser'));
const files = [...section.matchAll(/```\w+ file=(\S+)\n([\s\S]*?)```/g)].map((m) => ({ path: m[1]!, body: m[2]! }));
const run = promisify(execFile);

/** Whether `node` strips TypeScript types itself. */
const stripsTypes = (node: string): boolean => execFileSync(node, ['-p', 'process.features.typescript ?? false'], { encoding: 'utf8' }).trim() !== 'false';

/** The first of these Node binaries (this one, then those npm test fetched) for which `want` holds. */
function pickNode(want: (node: string) => boolean): string | undefined {
  const candidates = [process.execPath, process.env.TROUPE_TEST_NODE_20, process.env.TROUPE_TEST_NODE_22].filter((n): n is string => n !== undefined && n !== '' && existsSync(n));
  return candidates.find(want);
}

interface Started {
  readonly url?: string;
  readonly stderr: string;
  readonly code: number | null;
}

/** Starts `troupe start` from the installed package; stops it (by its PID) after `use` ran against its HTTP address. */
function startInstalled(app: string, node: string, actors: string, use: (url: string) => Promise<void>): Promise<Started> {
  return new Promise((done, fail) => {
    const bin = join(app, 'node_modules', 'troupe', 'bin', 'troupe.js');
    const child = spawn(node, [bin, 'start', '--port', '0', '--threads', '1', '--actors', actors], { cwd: app, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let url: string | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /ready: ws:\/\/[^,]+, (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m !== null && url === undefined) {
        url = m[1]!;
        use(url).then(() => child.kill('SIGTERM'), (err: unknown) => {
          child.kill('SIGTERM');
          fail(err);
        });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ ...(url === undefined ? {} : { url }), stderr, code });
    });
  });
}

const greet = async (url: string, name: string): Promise<unknown> => {
  const r = await fetch(`${url}/v1/actors/Greeter/hall/greet`, { method: 'POST', body: JSON.stringify([name]) });
  return r.json();
};

/** Whether a container engine answers here (a client without its daemon does not count). */
function containerEngine(): string | undefined {
  for (const engine of ['docker', 'podman']) {
    try {
      execFileSync(engine, ['info'], { stdio: 'ignore', timeout: 10_000 });
      return engine;
    } catch {
      // not installed, or its daemon does not answer
    }
  }
  return undefined;
}

describe('deploying your own actors (README), from an empty project', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'troupe-deploy-'));
  const app = join(scratch, 'app');
  let tarball = '';

  before(async () => {
    assert.ok(files.some((f) => f.path === 'actors/greeter.ts') && files.some((f) => f.path === 'tsconfig.json'), 'the README section has the actor and the tsconfig');
    // --ignore-scripts: the package's prepack would rebuild dist/ under the running suite.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', scratch], { cwd: root });
    tarball = join(scratch, stdout.trim().split('\n').pop()!);
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'my-actors', version: '1.0.0', type: 'module', private: true }, null, 2));
    // --prefer-offline: the packages are in npm's cache from this checkout's install.
    await run('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, timeout: 240_000 });
    for (const f of files) {
      mkdirSync(dirname(join(app, f.path)), { recursive: true });
      writeFileSync(join(app, f.path), f.body);
    }
  });

  after(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  test('the production install has no tsx and no TypeScript', () => {
    assert.equal(existsSync(join(app, 'node_modules', 'troupe', 'package.json')), true);
    assert.equal(existsSync(join(app, 'node_modules', 'tsx')), false);
    assert.equal(existsSync(join(app, 'node_modules', 'typescript')), false);
  });

  const stripping = pickNode(stripsTypes);
  test('a .ts actor loads with nothing more installed on a Node that strips types (22.18+)', { skip: stripping === undefined ? 'no Node with type stripping here (npm test fetches Node 22: TROUPE_TEST_NODE_22)' : false }, async () => {
    let answer: unknown;
    const r = await startInstalled(app, stripping!, 'actors/greeter.ts', async (url) => {
      answer = await greet(url, 'Ada');
    });
    assert.ok(r.url !== undefined, r.stderr);
    assert.deepEqual(answer, { value: 'Hello, Ada! You are visitor #1.' });
  });

  const noStripping = pickNode((n) => !stripsTypes(n));
  test('on a Node without type stripping (20) the node refuses a .ts actor with one line saying what to install', { skip: noStripping === undefined ? 'no Node 20 here (TROUPE_TEST_NODE_20)' : false }, async () => {
    const r = await startInstalled(app, noStripping!, 'actors/greeter.ts', async () => {});
    assert.equal(r.url, undefined);
    assert.equal(r.code, 1);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^troupe: actor module actors\/greeter\.ts is TypeScript and Node 20\.\d+\.\d+ cannot load it without tsx: install it beside troupe \(npm install tsx\), run on Node 22\.18 or newer .*compile your actors to \.js with tsc/);
  });

  test("compiled with tsc as the README shows, it runs on this Node with the production install", async () => {
    // The user's TypeScript would be their devDependency; this checkout's stands in for it.
    await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: app, timeout: 120_000 });
    assert.equal(existsSync(join(app, 'dist', 'greeter.js')), true);
    let answer: unknown;
    const r = await startInstalled(app, process.execPath, 'dist/greeter.js', async (url) => {
      answer = await greet(url, 'Grace');
    });
    assert.ok(r.url !== undefined, r.stderr);
    assert.deepEqual(answer, { value: 'Hello, Grace! You are visitor #1.' });
  });

  const engine = containerEngine();
  test('the image of deploy/docker/Dockerfile.app builds and answers a call', { skip: engine === undefined ? 'no container engine answers here (docker info and podman info fail): image not built' : false, timeout: 900_000 }, async () => {
    // The project depends on the packed tarball here (a user's on the registry): put it in the build context.
    copyFileSync(tarball, join(app, 'troupe.tgz'));
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    pkg.dependencies.troupe = 'file:troupe.tgz';
    writeFileSync(join(app, 'package.json'), JSON.stringify(pkg, null, 2));
    await run('npm', ['install', '--package-lock-only', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, timeout: 120_000 });
    const dockerfile = readFileSync(join(root, 'deploy', 'docker', 'Dockerfile.app'), 'utf8').replace('COPY package.json package-lock.json ./', 'COPY package.json package-lock.json troupe.tgz ./');
    writeFileSync(join(app, 'Dockerfile'), dockerfile);
    const tag = `troupe-deploy-test:${process.pid}`;
    await run(engine!, ['build', '-t', tag, '.'], { cwd: app, timeout: 900_000 });
    const { stdout } = await run(engine!, ['run', '-d', '--rm', '-p', '127.0.0.1::7070', tag]);
    const id = stdout.trim();
    try {
      const port = (await run(engine!, ['port', id, '7070'])).stdout.trim().split(':').pop()!;
      let answer: unknown;
      for (let i = 0; i < 60 && answer === undefined; i++) {
        answer = await greet(`http://127.0.0.1:${port}`, 'Linus').catch(() => undefined);
        if (answer === undefined) await new Promise((r) => setTimeout(r, 500));
      }
      assert.deepEqual(answer, { value: 'Hello, Linus! You are visitor #1.' });
    } finally {
      await run(engine!, ['rm', '-f', id]).catch(() => {});
      await run(engine!, ['rmi', tag]).catch(() => {});
    }
  });
});
