import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { after, afterEach, describe, test } from 'node:test';
import { TcpTransport } from '../runtime/transport/tcp/tcp-transport.js';
import { closeAll, freePort, HOST, SECRET, startNode, waitFor } from './fixtures/transport-kit.js';

afterEach(closeAll);
after(closeAll);

describe('tcp transport: messages', () => {
  test('two transports exchange messages both ways, in order, whichever side dialled', async () => {
    const a = await startNode('a');
    const b = await startNode('b');
    for (let i = 0; i < 500; i++) assert.equal(a.t.send(b.addr, { seq: i }), true);
    await waitFor(() => b.received.length === 500, 5000, 'a -> b');
    // b never dialled: its messages ride the link a opened.
    for (let i = 0; i < 500; i++) assert.equal(b.t.send(a.addr, { seq: i }), true);
    await waitFor(() => a.received.length === 500, 5000, 'b -> a');
    assert.deepEqual(b.received.map((r) => (r.message as { seq: number }).seq), [...Array(500).keys()]);
    assert.deepEqual(a.received.map((r) => (r.message as { seq: number }).seq), [...Array(500).keys()]);
    assert.ok(b.received.every((r) => r.from === 'a') && a.received.every((r) => r.from === 'b'));
    assert.equal(a.t.stats().linksOpened, 1);
    assert.equal(b.t.stats().linksOpened, 1);
    assert.deepEqual([a.ups, b.ups], [['b'], ['a']]);
    assert.equal(a.t.peerState('b'), 'up');
    assert.equal(b.t.peerState('a'), 'up');
  });

  test('sendOnLink answers over the open link a peer dialled, with no address for it, and never dials', async () => {
    const a = await startNode('a');
    const b = await startNode('b');
    assert.equal(b.t.sendOnLink('a', 'too early'), false, 'no link yet: nothing is queued and nothing dials');
    assert.equal(b.t.peerState('a'), 'down');
    a.t.send(b.addr, 'call');
    await waitFor(() => b.received.length === 1);
    // b has never been given a's address (its view does not list a): the answer rides a's link.
    assert.equal(b.t.sendOnLink('a', 'answer'), true);
    await waitFor(() => a.received.length === 1);
    assert.deepEqual(a.received.map((r) => r.message), ['answer']);
    assert.equal(b.t.sendOnLink('nobody', 'x'), false);
  });

  test('what is sent to a peer in one tick arrives in one frame', async () => {
    const a = await startNode('a');
    const b = await startNode('b');
    a.t.send(b.addr, 'warm-up');
    await waitFor(() => b.received.length === 1);
    const sent = a.t.stats().framesSent;
    const got = b.t.stats().framesReceived;
    for (let i = 0; i < 1000; i++) a.t.send(b.addr, { i, pad: 'x'.repeat(80) });
    await waitFor(() => b.received.length === 1001);
    assert.equal(a.t.stats().framesSent - sent, 1);
    assert.equal(b.t.stats().framesReceived - got, 1);
    assert.equal(b.t.stats().messagesReceived, 1001);
  });

  test('a batch bigger than the peer frame limit is split into frames that fit', async () => {
    const a = await startNode('a', { maxFrame: 64 * 1024 });
    const b = await startNode('b', { maxFrame: 64 * 1024 });
    a.t.send(b.addr, 'warm-up');
    await waitFor(() => b.received.length === 1);
    const sent = a.t.stats().framesSent;
    for (let i = 0; i < 100; i++) a.t.send(b.addr, randomBytes(4000));
    await waitFor(() => b.received.length === 101);
    const frames = a.t.stats().framesSent - sent;
    assert.ok(frames >= 7 && frames <= 8, `400 kB in 64 kB frames took ${frames}`);
  });

  test('big and binary payloads round-trip unchanged', async () => {
    const a = await startNode('a', { maxFrame: 16 << 20 });
    const b = await startNode('b', { maxFrame: 16 << 20 });
    const big = randomBytes(8 << 20);
    const bytes = new Uint8Array([0, 1, 2, 253, 254, 255]);
    const value = { bin: Buffer.from([0, 0xff, 0x80]), bytes, nested: { list: [1, 'two', null, true, 3.5], map: new Map([['k', 1]]) }, when: new Date(1700000000000) };
    assert.equal(a.t.send(b.addr, big), true);
    assert.equal(a.t.send(b.addr, value), true);
    await waitFor(() => b.received.length === 2, 10_000);
    const [first, second] = b.received.map((r) => r.message);
    assert.ok(Buffer.isBuffer(first) || first instanceof Uint8Array);
    assert.ok(Buffer.from(first as Uint8Array).equals(big));
    const v = second as typeof value;
    assert.ok(Buffer.from(v.bin).equals(value.bin));
    assert.deepEqual([...v.bytes], [...bytes]);
    assert.deepEqual(v.nested.list, value.nested.list);
    assert.equal(v.when.getTime(), value.when.getTime());
    // Binary values must not alias the socket's buffer: later traffic cannot change them.
    for (let i = 0; i < 50; i++) a.t.send(b.addr, randomBytes(1000));
    await waitFor(() => b.received.length === 52);
    assert.ok(Buffer.from(v.bin).equals(value.bin));
  });

  test('a message that can never fit a frame is refused at send()', async () => {
    const a = await startNode('a', { maxFrame: 4096 });
    const b = await startNode('b', { maxFrame: 4096 });
    assert.equal(a.t.send(b.addr, randomBytes(5000)), false);
    assert.equal(a.t.send(b.addr, randomBytes(4000)), true);
    await waitFor(() => b.received.length === 1);
    assert.equal(a.events('link.message_too_large').length, 1);
  });

  test('three transports all exchange, each pair over one link, per-sender order kept', async () => {
    const nodes = await Promise.all(['n1', 'n2', 'n3'].map((id) => startNode(id)));
    for (let i = 0; i < 300; i++) {
      for (const from of nodes) for (const to of nodes) if (from !== to) from.t.send(to.addr, { from: from.id, i });
    }
    for (const n of nodes) await waitFor(() => n.received.length === 600, 5000, `${n.id} receives`);
    for (const n of nodes) {
      for (const other of nodes.filter((o) => o !== n)) {
        const seq = n.received.filter((r) => r.from === other.id).map((r) => (r.message as { i: number }).i);
        assert.deepEqual(seq, [...Array(300).keys()], `${other.id} -> ${n.id}`);
      }
      assert.equal(n.t.stats().linksOpened, 2, `${n.id} has one link per peer`);
      assert.equal(n.ups.length, 2);
    }
  });

  test('when both sides dial at once, one link survives and nothing is lost', async () => {
    for (let round = 0; round < 10; round++) {
      const a = await startNode(`x${round}`);
      const b = await startNode(`y${round}`);
      for (let i = 0; i < 20; i++) {
        a.t.send(b.addr, i);
        b.t.send(a.addr, i);
      }
      await waitFor(() => a.received.length === 20 && b.received.length === 20, 5000, `round ${round}`);
      assert.deepEqual(a.received.map((r) => r.message), [...Array(20).keys()]);
      assert.deepEqual(b.received.map((r) => r.message), [...Array(20).keys()]);
      assert.deepEqual([a.ups.length, b.ups.length, a.downs.length, b.downs.length], [1, 1, 0, 0], `round ${round}`);
      await closeAll();
    }
  });

  test('messages wait in a bounded queue while the link is being made', async () => {
    const port = await freePort();
    const a = await startNode('a', { maxQueue: 10, breakerVolume: 1000, backoffMinMs: 20, backoffMaxMs: 50 });
    const addr = { id: 'late', address: HOST, linkPort: port };
    for (let i = 0; i < 10; i++) assert.equal(a.t.send(addr, i), true, `message ${i} queued`);
    assert.equal(a.t.send(addr, 10), false, 'queue full');
    assert.equal(a.t.peerState('late'), 'connecting');
    await new Promise((r) => setTimeout(r, 150));
    const late = await startNode('late', {}, port);
    await waitFor(() => late.received.length === 10, 5000, 'queued messages delivered');
    assert.deepEqual(late.received.map((r) => r.message), [...Array(10).keys()]);
  });

  test('forget() drops the peer: closes its link, stops reconnecting, drops its queue', async () => {
    const a = await startNode('a');
    const b = await startNode('b');
    a.t.send(b.addr, 'hi');
    await waitFor(() => b.received.length === 1);
    a.t.forget('b');
    assert.deepEqual(a.downs, [], 'the caller forgot it: no onPeerDown');
    assert.equal(a.t.peerState('b'), 'down');
    await waitFor(() => b.downs.length === 1, 2000, 'b sees the link go');
    // Nothing redials: b never sent to a, a forgot b.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(a.t.stats().linksOpened, 1);
    assert.equal(b.t.peerState('a'), 'down');

    // A forgotten peer's queue is dropped and no attempt follows.
    const port = await freePort();
    const ghost = { id: 'ghost', address: HOST, linkPort: port };
    a.t.send(ghost, 'queued');
    a.t.forget('ghost');
    const g = await startNode('ghost', {}, port);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(g.received.length, 0);
    assert.equal(g.ups.length, 0);
  });

  test('handler errors are logged and do not break the link', async () => {
    const a = await startNode('a');
    const b = await startNode('b');
    b.t.onMessage((_from, m) => {
      if (m === 'boom') throw new Error('handler bug');
    });
    a.t.send(b.addr, 'boom');
    a.t.send(b.addr, 'after');
    await waitFor(() => b.received.length === 2);
    assert.equal(b.events('link.handler_failed').length, 1);
    assert.equal(b.t.peerState('a'), 'up');
  });

  test('options are checked where they enter', () => {
    const log = () => {};
    assert.throws(() => new TcpTransport({ nodeId: '', secret: SECRET, maxFrame: 1 << 20, log }), /nodeId/);
    assert.throws(() => new TcpTransport({ nodeId: 'a', secret: 'short', maxFrame: 1 << 20, log }), /secret must be/);
    assert.throws(() => new TcpTransport({ nodeId: 'a', secret: SECRET, maxFrame: 10, log }), /maxFrame/);
    assert.throws(() => new TcpTransport({ nodeId: 'a', secret: SECRET, maxFrame: 1 << 20, log, backoffMinMs: 0 }), /backoffMinMs/);
    assert.throws(() => new TcpTransport({ nodeId: 'a', secret: SECRET, maxFrame: 1 << 20, log, idleTimeoutMs: 100, heartbeatMs: 100 }), /idleTimeoutMs/);
    try {
      new TcpTransport({ nodeId: 'a', secret: 'short', maxFrame: 1 << 20, log });
    } catch (err) {
      assert.ok(!String((err as Error).message).includes('short'), 'the secret is not echoed');
    }
  });

  test('send() to this node itself or of a value msgpack cannot carry throws a TypeError', async () => {
    const a = await startNode('a');
    const b = await startNode('b');
    assert.throws(() => a.t.send(a.addr, 1), TypeError);
    assert.throws(() => a.t.send(b.addr, { f: Symbol('no') }), TypeError);
    assert.throws(() => a.t.send({ id: 'c', address: HOST, linkPort: 0 }, 1), /no valid link address/);
  });
});
