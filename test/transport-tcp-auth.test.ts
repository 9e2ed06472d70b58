import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { after, afterEach, describe, test } from 'node:test';
import { closeAll, closesWithin, rawDial, rawSocket, SECRET, startNode, waitFor, type Node } from './fixtures/transport-kit.js';

afterEach(closeAll);
after(closeAll);

const OTHER_SECRET = 'another-secret-entirely-77';

/** b still talks to a good peer after whatever the test did to it. */
async function stillWorks(b: Node): Promise<void> {
  const good = await startNode(`good-${randomBytes(3).toString('hex')}`);
  good.t.send(b.addr, 'ping');
  await waitFor(() => b.received.some((r) => r.from === good.id && r.message === 'ping'), 5000, 'a good peer gets through');
}

describe('tcp transport: strangers', () => {
  test('a wrong secret is refused on both sides and never delivered', async () => {
    const a = await startNode('a');
    const b = await startNode('b', { secret: OTHER_SECRET });
    assert.equal(a.t.send(b.addr, 'from a'), true);
    assert.equal(b.t.send(a.addr, 'from b'), true);
    await waitFor(() => a.t.stats().refused >= 1 && b.t.stats().refused >= 1, 5000, 'both refuse');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual([a.received.length, b.received.length, a.ups.length, b.ups.length], [0, 0, 0, 0]);
    assert.ok(b.events('link.refused').some((l) => l.reason === 'LINK_AUTH_FAILED' && l.claimed === 'a'));
    assert.ok(a.events('link.refused').some((l) => l.reason === 'LINK_AUTH_FAILED' && l.claimed === 'b'));
    assert.notEqual(a.t.peerState('b'), 'up');
    const everything = JSON.stringify([a.logs, b.logs]);
    assert.ok(!everything.includes(SECRET) && !everything.includes(OTHER_SECRET), 'no secret in the logs');
  });

  test('garbage is dropped at once and the transport keeps working', async () => {
    const b = await startNode('b');
    // A small length prefix, then bytes that are no hello.
    const s1 = await rawSocket(b.port);
    s1.write(Buffer.concat([Buffer.from([0, 0, 0, 8]), randomBytes(8)]));
    assert.ok((await closesWithin(s1, 1500)) < 1000);
    // Random bytes: almost surely a huge length prefix.
    const s2 = await rawSocket(b.port);
    s2.write(randomBytes(64));
    await closesWithin(s2, 2500);
    await waitFor(() => b.t.stats().refused === 2, 2000, 'two refusals logged');
    assert.ok(b.events('link.refused').every((l) => typeof l.reason === 'string' && typeof l.remote === 'string'));
    await stillWorks(b);
  });

  test('an HTTP request is dropped on its first four bytes', async () => {
    const b = await startNode('b');
    const s = await rawSocket(b.port);
    s.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.ok((await closesWithin(s, 1500)) < 500);
    await waitFor(() => b.t.stats().refused === 1);
    assert.equal(b.events('link.refused')[0]!.reason, 'LINK_FRAME_TOO_LARGE');
    await stillWorks(b);
  });

  test('a slowloris is cut off at the handshake timeout (default 2 s)', async () => {
    const b = await startNode('b');
    const silent = await rawSocket(b.port);
    const trickle = await rawSocket(b.port);
    trickle.write(Buffer.from([0, 0, 0, 200, 0x85])); // a hello that never finishes
    const [t1, t2] = await Promise.all([closesWithin(silent, 4000), closesWithin(trickle, 4000)]);
    for (const t of [t1, t2]) assert.ok(t >= 1800 && t < 3000, `closed after ${t} ms`);
    assert.ok(b.events('link.refused').every((l) => l.reason === 'LINK_HANDSHAKE_TIMEOUT'));
    await stillWorks(b);
  });

  test('a flood of idle connections evicts the oldest, and a real peer still gets in', async () => {
    const b = await startNode('b', { maxPendingHandshakes: 4 });
    const idle = [];
    for (let i = 0; i < 4; i++) idle.push(await rawSocket(b.port));
    const fifth = await rawSocket(b.port);
    assert.ok((await closesWithin(idle[0]!, 1000)) < 500, 'oldest evicted');
    await stillWorks(b);
    assert.ok(b.events('link.refused').some((l) => l.reason === 'LINK_EVICTED'));
    fifth.destroy();
  });

  test('insecure mode links without proofs and warns once; it never links with a node that has a secret', async () => {
    const a = await startNode('a', { secret: null });
    const b = await startNode('b', { secret: null });
    a.t.send(b.addr, 'plain');
    await waitFor(() => b.received.length === 1);
    assert.equal(a.events('link.insecure').length, 1);
    assert.equal(a.events('link.insecure')[0]!.level, 'warn');
    const c = await startNode('c');
    a.t.send(c.addr, 'nope');
    c.t.send(b.addr, 'nope');
    await waitFor(() => c.t.stats().refused >= 1 && b.t.stats().refused >= 1, 5000, 'mode mismatch refused');
    assert.ok(c.events('link.refused').some((l) => l.reason === 'LINK_AUTH_MODE'));
    assert.equal(c.received.length, 0);
    assert.equal(b.received.length, 1);
  });
});

describe('tcp transport: misbehaving peers', () => {
  test('a frame length over maxFrame closes that link only', async () => {
    const b = await startNode('b', { maxFrame: 64 * 1024 });
    const c = await startNode('c');
    c.t.send(b.addr, 'before');
    await waitFor(() => b.received.length === 1);
    const x = await rawDial(b.port, 'x', 'b');
    assert.equal(x.answer, 'accept');
    await waitFor(() => b.ups.includes('x'));
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(64 * 1024 + 1);
    x.socket.write(prefix);
    assert.ok((await closesWithin(x.socket, 1000)) < 500);
    await waitFor(() => b.downs.includes('x'));
    const down = b.events('link.down').find((l) => l.peer === 'x')!;
    assert.equal(down.reason, 'LINK_FRAME_TOO_LARGE');
    assert.equal(down.level, 'warn');
    assert.equal(b.t.peerState('c'), 'up');
    c.t.send(b.addr, 'after');
    await waitFor(() => b.received.length === 2);
  });

  test('a data frame that is not an array of messages closes the link', async () => {
    const b = await startNode('b');
    const x = await rawDial(b.port, 'x', 'b');
    x.socket.write(Buffer.from([0, 0, 0, 1, 0x07])); // msgpack 7: not an array
    await closesWithin(x.socket, 1000);
    await waitFor(() => b.downs.includes('x'));
    assert.equal(b.events('link.down').find((l) => l.peer === 'x')!.reason, 'LINK_BAD_FRAME');
    assert.equal(b.received.length, 0);
  });

  test('a peer that goes silent (no heartbeats) is dropped after the idle timeout; quiet healthy links stay', async () => {
    const opts = { heartbeatMs: 100, idleTimeoutMs: 400 };
    const b = await startNode('b', opts);
    const a = await startNode('a', opts);
    a.t.send(b.addr, 'hi');
    await waitFor(() => b.received.length === 1);
    const x = await rawDial(b.port, 'x', 'b');
    const started = Date.now();
    await waitFor(() => b.downs.includes('x'), 2000, 'silent peer dropped');
    assert.ok(Date.now() - started < 1000);
    assert.equal(b.events('link.down').find((l) => l.peer === 'x')!.reason, 'LINK_IDLE');
    await closesWithin(x.socket, 1000);
    await new Promise((r) => setTimeout(r, 600)); // longer than idleTimeoutMs with no messages
    assert.deepEqual([a.t.peerState('b'), b.t.peerState('a')], ['up', 'up']);
    assert.ok(x.frames.some((f) => f.length === 0), 'b sent heartbeats (zero-length frames) on its quiet link');
  });

  test('a dial from a restarted peer replaces the old link; a second dial from the same incarnation is turned away', async () => {
    const b = await startNode('b');
    const first = await rawDial(b.port, 'x', 'b', { inc: 'aaaa' });
    await waitFor(() => b.ups.length === 1);
    const dup = await rawDial(b.port, 'x', 'b', { inc: 'aaaa' });
    assert.equal(dup.answer, 'reject');
    await closesWithin(dup.socket, 1000);
    assert.equal(b.t.peerState('x'), 'up');
    const restarted = await rawDial(b.port, 'x', 'b', { inc: 'bbbb' });
    assert.equal(restarted.answer, 'accept');
    await closesWithin(first.socket, 1000);
    assert.deepEqual(b.ups, ['x', 'x']);
    assert.deepEqual(b.downs, ['x']);
    restarted.socket.destroy();
  });

  test('a dial meant for another node, or claiming our own id, is refused', async () => {
    const b = await startNode('b');
    await assert.rejects(rawDial(b.port, 'x', 'not-b'));
    await assert.rejects(rawDial(b.port, 'b', 'b'));
    await waitFor(() => b.t.stats().refused === 2);
    assert.deepEqual(b.events('link.refused').map((l) => l.reason).sort(), ['LINK_SELF', 'LINK_WRONG_PEER']);
  });
});
