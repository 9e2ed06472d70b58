import { strict as assert } from 'node:assert';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { backoffDelay } from '../runtime/transport/tcp/backoff.js';
import { MessageCodec } from '../runtime/transport/tcp/frame-codec.js';
import { FrameReader } from '../runtime/transport/tcp/frame-reader.js';
import { SendQueue } from '../runtime/transport/tcp/send-queue.js';
import { makeHello, parseHello, prove, verify } from '../runtime/transport/tcp/handshake.js';
import { LinkError } from '../runtime/transport/tcp/link-errors.js';
import { tieBreak } from '../runtime/transport/tcp/tie-break.js';

const SECRET = 'unit-test-secret-0123456789';

/** Collects what writeBatch writes, as one byte string. */
function sink(): { socket: Socket; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const socket = { cork() {}, uncork() {}, write: (b: Buffer) => chunks.push(Buffer.from(b)) } as unknown as Socket;
  return { socket, bytes: () => Buffer.concat(chunks) };
}

function frame(body: Buffer): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(body.length);
  return Buffer.concat([p, body]);
}

describe('tcp transport units', () => {
  test('the frame reader yields the same frames however the stream is cut', () => {
    const bodies = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.from('last frame')];
    const stream = Buffer.concat(bodies.map(frame));
    for (const cut of [1, 2, 3, 5, 64, stream.length]) {
      const got: Buffer[] = [];
      const reader = new FrameReader(1000, (b) => got.push(Buffer.from(b)));
      for (let i = 0; i < stream.length; i += cut) reader.push(stream.subarray(i, i + cut));
      assert.deepEqual(got, bodies, `cut every ${cut} bytes`);
    }
  });

  test('a prefix over the limit throws at once, before any of the body arrives', () => {
    const reader = new FrameReader(100, () => assert.fail('no frame expected'));
    const prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(101);
    reader.push(prefix.subarray(0, 2)); // half a prefix: nothing to judge yet
    assert.throws(() => reader.push(prefix.subarray(2)), (e: unknown) => e instanceof LinkError && e.code === 'LINK_FRAME_TOO_LARGE');
    reader.push(Buffer.alloc(10)); // stopped: ignored
  });

  test('stop() inside the callback drops the rest of the chunk', () => {
    let n = 0;
    const reader: FrameReader = new FrameReader(100, () => {
      n++;
      reader.stop();
    });
    reader.push(Buffer.concat([frame(Buffer.from('x')), frame(Buffer.from('y'))]));
    assert.equal(n, 1);
  });

  /** Queues each message as a transport does: encoded in msgpackr's buffer, copied at once. */
  const queued = (codec: MessageCodec, messages: readonly unknown[]): SendQueue => {
    const q = new SendQueue();
    for (const m of messages) {
      const b = codec.encodeTransient(m);
      q.push(b, b.start, b.end);
    }
    return q;
  };
  const framesOf = (codec: MessageCodec, bytes: Buffer, limit: number): unknown[][] => {
    const frames: unknown[][] = [];
    new FrameReader(limit, (b) => frames.push(codec.decodeBatch(b))).push(bytes);
    return frames;
  };

  test('a batch is written as msgpack arrays that split at the frame limit and decode to the messages', () => {
    const codec = new MessageCodec();
    const messages = Array.from({ length: 50 }, (_, i) => ({ i, pad: 'x'.repeat(90) }));
    const { socket, bytes } = sink();
    const q = queued(codec, messages);
    assert.equal(q.count, 50);
    const result = q.writeTo(socket, 1024);
    assert.equal(q.count, 0, 'writing empties the queue');
    const frames = framesOf(codec, bytes(), 1024);
    assert.equal(frames.length, result.frames);
    assert.ok(frames.length >= 5 && frames.length <= 6, `${frames.length} frames`);
    assert.equal(result.bytes, bytes().length);
    assert.deepEqual(frames.flat(), messages);
    // Array headers: fixarray (<16), array16 (<65536), array32.
    for (const n of [15, 16, 70_000]) {
      const s = sink();
      queued(codec, Array.from({ length: n }, (_, i) => i)).writeTo(s.socket, 1 << 20);
      assert.deepEqual(framesOf(codec, s.bytes(), 1 << 20).flat(), Array.from({ length: n }, (_, i) => i));
    }
  });

  test('the queue keeps every message intact across its buffers, big ones included, and across writes', () => {
    const codec = new MessageCodec();
    // Sizes around the 64 KiB first buffer, so it grows (its bytes moved) while messages are queued; tiny ones copied byte by byte.
    const sizes = [10, 16_000, 20_000, 40_000, 3, 65_000, 70_000, 1, 30_000, 30_000, 30_000, 5];
    const messages = sizes.map((n, i) => ({ i, pad: String.fromCharCode(97 + (i % 26)).repeat(n) }));
    const s = sink();
    const q = queued(codec, messages.slice(0, 6));
    q.writeTo(s.socket, 1 << 20);
    // Written buffers are never written again: what comes after goes past them.
    for (const m of messages.slice(6)) {
      const b = codec.encodeTransient(m);
      q.push(b, b.start, b.end);
    }
    q.writeTo(s.socket, 1 << 20);
    assert.deepEqual(framesOf(codec, s.bytes(), 1 << 20).flat(), messages);
  });

  test('a message bigger than the frame limit is left out and counted; the rest are sent', () => {
    const codec = new MessageCodec();
    const messages = ['small', 'x'.repeat(5000), 'after'];
    const s = sink();
    const result = queued(codec, messages).writeTo(s.socket, 1024);
    assert.equal(result.dropped, 1);
    assert.deepEqual(framesOf(codec, s.bytes(), 1024).flat(), ['small', 'after']);
  });

  test('proofs: the right secret verifies; a wrong secret, a reflected role or an altered hello does not', () => {
    const d = makeHello('a', 'inc-a', 'hmac', 1 << 20, 'b');
    const a = makeHello('b', 'inc-b', 'hmac', 1 << 20);
    const mac = prove(SECRET, 'dialer', d, a);
    assert.equal(verify(SECRET, 'dialer', d, a, mac), true);
    assert.equal(verify('some-other-secret-xyz', 'dialer', d, a, mac), false);
    assert.equal(verify(SECRET, 'acceptor', d, a, mac), false, 'a dialer proof is no acceptor proof');
    assert.equal(verify(SECRET, 'dialer', { ...d, maxFrame: 2048 }, a, mac), false);
    assert.equal(verify(SECRET, 'dialer', d, { ...a, inc: 'other' }, mac), false);
    assert.equal(verify(SECRET, 'dialer', d, a, mac.subarray(0, 16)), false);
    assert.equal(prove(null, 'dialer', d, a).length, 0);
  });

  test('a hello from the network is checked field by field', () => {
    const good = makeHello('a', 'inc', 'hmac', 1 << 20, 'b');
    assert.equal(parseHello(good, 'dialer').id, 'a');
    const bad = [null, 7, { ...good, t: 'proof' }, { ...good, v: 2 }, { ...good, id: '' }, { ...good, nonce: Buffer.alloc(8) }, { ...good, auth: 'x' }, { ...good, maxFrame: 1 }, { ...good, to: undefined }];
    for (const h of bad) assert.throws(() => parseHello(h, 'dialer'), (e: unknown) => e instanceof LinkError && e.code === 'LINK_BAD_HELLO');
  });

  test('tie-break: both nodes keep the link dialled by the smaller id; a restart replaces, a repeat is refused', () => {
    const idle = { linkedIncarnation: undefined, dialling: false };
    const dialling = { linkedIncarnation: undefined, dialling: true };
    assert.equal(tieBreak('b', 'a', 'i1', idle), 'accept');
    // Simultaneous dial between a and b, seen from each side as acceptor:
    assert.equal(tieBreak('b', 'a', 'i1', dialling), 'supersede-ours'); // b accepts a's dial, drops its own
    assert.equal(tieBreak('a', 'b', 'i2', dialling), 'duplicate'); // a refuses b's dial, keeps its own
    assert.equal(tieBreak('b', 'a', 'i1', { linkedIncarnation: 'i1', dialling: false }), 'duplicate');
    assert.equal(tieBreak('b', 'a', 'i9', { linkedIncarnation: 'i1', dialling: false }), 'replace-link');
  });

  test('backoff doubles from min to max with jitter in the upper half', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(2000, 50 * 2 ** attempt);
      for (const r of [0, 0.5, 0.999]) {
        const d = backoffDelay(attempt, 50, 2000, () => r);
        assert.ok(d >= ceiling / 2 - 1 && d <= ceiling, `attempt ${attempt}: ${d}`);
      }
    }
  });
});
