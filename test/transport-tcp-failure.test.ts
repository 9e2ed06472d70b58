import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, afterEach, describe, test } from 'node:test';
import { closeAll, freePort, HOST, SECRET, startNode, waitFor } from './fixtures/transport-kit.js';

const PEER = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'transport-peer.js');
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

afterEach(closeAll);
after(async () => {
  await closeAll();
  for (const c of children) c.kill('SIGKILL');
});

interface Child {
  readonly proc: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
  line(event: string, ms?: number): Promise<Record<string, unknown>>;
}

/** Starts test/fixtures/transport-peer.js; stopped by PID (proc.kill) in the test or on exit. */
function spawnPeer(config: Record<string, unknown>): Child {
  const proc = spawn(process.execPath, [PEER, JSON.stringify({ secret: SECRET, ...config })], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(proc);
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      buf = buf.slice(nl + 1);
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      children.delete(proc);
      resolve(code);
    }),
  );
  return {
    proc,
    lines,
    exited,
    async line(event, ms = 10_000) {
      await waitFor(() => lines.some((l) => l.event === event), ms, `child line ${event}`);
      return lines.find((l) => l.event === event)!;
    },
  };
}

describe('tcp transport: failures and recovery', () => {
  test('a peer closed and restarted on the same port is reconnected to by itself, and messages flow again', async () => {
    const a = await startNode('a', { backoffMinMs: 20, backoffMaxMs: 200 });
    let b = await startNode('b');
    const port = b.port;
    a.t.send(b.addr, 'first');
    await waitFor(() => b.received.length === 1);
    await b.t.close();
    await waitFor(() => a.downs.includes('b'), 2000, 'a sees b go');
    assert.notEqual(a.t.peerState('b'), 'up');
    await new Promise((r) => setTimeout(r, 100)); // a few refused attempts
    b = await startNode('b', {}, port);
    // No send needed: a redials with backoff until b answers.
    await waitFor(() => a.t.peerState('b') === 'up', 5000, 'a reconnects');
    assert.deepEqual(a.ups, ['b', 'b']);
    assert.equal(a.t.send(b.addr, 'second'), true);
    b.t.send(a.addr, 'back');
    await waitFor(() => b.received.length === 1 && a.received.length === 1);
    assert.equal(b.received[0]!.message, 'second');
  });

  test('onPeerDown fires promptly when the peer process is killed with SIGKILL', async (t) => {
    const child = spawnPeer({ mode: 'echo', id: 'victim' });
    const { port } = (await child.line('ready')) as { port: number };
    const a = await startNode('a', { breakerVolume: 3, breakerResetMs: 5000 });
    const victim = { id: 'victim', address: HOST, linkPort: port };
    a.t.send(victim, { n: 1, replyTo: a.addr });
    await waitFor(() => a.received.length === 1, 10_000, 'echo');
    assert.deepEqual(a.received[0]!.message, { echo: 1, from: 'victim' });
    const killedAt = Date.now();
    child.proc.kill('SIGKILL');
    await waitFor(() => a.downs.includes('victim'), 5000, 'peer down');
    const ms = Date.now() - killedAt;
    t.diagnostic(`onPeerDown ${ms} ms after SIGKILL`);
    assert.ok(ms < 1000, `onPeerDown after ${ms} ms`);
    await child.exited;
    // Nothing listens any more: the breaker opens and send() fails fast.
    await waitFor(() => a.t.peerState('victim') === 'down' && a.events('link.breaker_open').length === 1, 5000, 'breaker opens');
    assert.equal(a.t.send(victim, { n: 2, replyTo: a.addr }), false);
  });

  test('the breaker opens after repeated failed attempts (send fails fast) and closes when the peer comes back', async () => {
    const port = await freePort();
    const a = await startNode('a', { backoffMinMs: 10, backoffMaxMs: 40, breakerVolume: 3, breakerResetMs: 400 });
    const addr = { id: 'b', address: HOST, linkPort: port };
    assert.equal(a.t.send(addr, 'queued'), true);
    assert.equal(a.t.peerState('b'), 'connecting');
    await waitFor(() => a.t.peerState('b') === 'down', 3000, 'breaker open');
    const open = a.events('link.breaker_open');
    assert.equal(open.length, 1);
    assert.equal(open[0]!.dropped, 1, 'the queue is dropped when the breaker opens');
    const t0 = process.hrtime.bigint();
    assert.equal(a.t.send(addr, 'refused'), false);
    assert.ok(Number(process.hrtime.bigint() - t0) < 5e6, 'send fails fast');
    // While open, the peer is probed once per breakerResetMs, not on every backoff step.
    const attempts = () => a.events('link.dial_failed').length;
    const before = attempts();
    await new Promise((r) => setTimeout(r, 900));
    assert.ok(attempts() - before <= 3, `${attempts() - before} attempts in 900 ms while open`);
    const b = await startNode('b', {}, port);
    await waitFor(() => a.t.peerState('b') === 'up', 3000, 'probe reconnects');
    assert.equal(a.events('link.breaker_closed').length, 1);
    assert.equal(a.t.send(addr, 'through'), true);
    await waitFor(() => b.received.length === 1);
    assert.equal(b.received[0]!.message, 'through');
  });

  test('an inbound link from a peer whose breaker is open closes the breaker', async () => {
    const port = await freePort();
    const a = await startNode('a', { backoffMinMs: 10, backoffMaxMs: 40, breakerVolume: 3, breakerResetMs: 60_000 });
    a.t.send({ id: 'b', address: HOST, linkPort: port }, 'x');
    await waitFor(() => a.t.peerState('b') === 'down', 3000, 'breaker open');
    const b = await startNode('b');
    b.t.send(a.addr, 'hello');
    await waitFor(() => a.t.peerState('b') === 'up');
    assert.equal(a.t.send(b.addr, 'reply'), true);
    await waitFor(() => b.received.length === 1);
  });

  test('close() clears every socket and timer: the process exits by itself', async () => {
    const deadPort = await freePort();
    const child = spawnPeer({ mode: 'exit-check', id: 'exit', deadPort });
    const exchanged = await child.line('exchanged');
    assert.deepEqual([exchanged.got, exchanged.dead], [100, 'down']);
    await child.line('closed');
    const closedAt = Date.now();
    const code = await Promise.race([child.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 3000))]);
    assert.equal(code, 0, 'process ended by itself');
    assert.ok(Date.now() - closedAt < 1000);
  });

  test('close() delivers what was sent in the same tick before ending the link', async () => {
    const a = await startNode('a');
    const b = await startNode('b');
    a.t.send(b.addr, 'up');
    await waitFor(() => b.received.length === 1);
    for (let i = 0; i < 100; i++) a.t.send(b.addr, i);
    await a.t.close();
    await waitFor(() => b.received.length === 101, 2000);
    await waitFor(() => b.downs.length === 1);
    assert.equal(a.t.send(b.addr, 'late'), false);
  });
});
