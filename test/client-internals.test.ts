/** Unit tests of the SDK's internals that the stub cannot drive: socket backpressure and the deadline lists. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Unpackr } from 'msgpackr';
import { backoffDelay } from '../client/backoff.js';
import { Codec } from '../client/codec.js';
import { Deadlines, type DeadlineList, type Timed } from '../client/deadlines.js';
import { Outbox } from '../client/outbox.js';
import { Phase, PendingCall } from '../client/pending.js';
import type { Socket } from '../client/transport.js';

class FakeSocket implements Socket {
  readonly frames: unknown[] = [];
  bufferedAmount = 0;
  private readonly unpackr = new Unpackr({ useRecords: false });
  send(frame: Uint8Array): void {
    this.frames.push(this.unpackr.unpack(frame));
  }
  close(): void {}
}

function call(id: number): PendingCall {
  return new PendingCall(id, { op: 'call', id, actor: 'A', key: 'k', method: 'm', args: [id] }, false, 1000, () => {}, () => {});
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('outbox', () => {
  const limits = { maxBatch: 100, maxFrameBytes: 1 << 20, highWaterBytes: 1000 };

  it('holds messages while the socket buffer is above the high-water mark, and sends them once it drains', async () => {
    const socket = new FakeSocket();
    const box = new Outbox(new Codec(), limits, () => assert.fail('unsendable'), () => assert.fail('dropped'));
    box.socket = socket;
    socket.bufferedAmount = 5000;
    const calls = [call(1), call(2), call(3)];
    for (const c of calls) box.push(c);
    await tick();
    assert.equal(socket.frames.length, 0, 'nothing written while congested');
    assert.equal(box.length, 3);
    socket.bufferedAmount = 0;
    await tick(20);
    assert.equal(socket.frames.length, 1);
    assert.equal((socket.frames[0] as unknown[]).length, 3);
    assert.ok(calls.every((c) => c.phase === Phase.Sent));
    assert.ok(calls.every((c) => c.msg === null), 'calls that cannot be re-sent drop their message once sent');
  });

  it('holds messages without a socket, skips calls settled meanwhile, and sends re-sends first', async () => {
    const socket = new FakeSocket();
    const box = new Outbox(new Codec(), limits, () => {}, () => {});
    const [a, b, c] = [call(1), call(2), call(3)];
    box.push(a);
    box.push(b);
    await tick();
    b.phase = Phase.Done; // timed out while waiting
    box.unshift([c]);
    box.socket = socket;
    box.flush();
    assert.deepEqual((socket.frames[0] as { id: number }[]).map((m) => m.id), [3, 1]);
  });

  it('flushes at once, without waiting for the microtask, when maxBatch messages are queued', () => {
    const socket = new FakeSocket();
    const box = new Outbox(new Codec(), { ...limits, maxBatch: 4 }, () => {}, () => {});
    box.socket = socket;
    for (let i = 1; i <= 4; i++) box.push(call(i));
    assert.equal(socket.frames.length, 1, 'sent synchronously');
  });
});

class Item implements Timed {
  deadline = 0;
  prev: Timed | null = null;
  next: Timed | null = null;
  list: DeadlineList | null = null;
  constructor(readonly name: string) {}
}

describe('deadlines', () => {
  it('expires items in deadline order across timeouts, and never removed ones', async () => {
    const expired: string[] = [];
    const d = new Deadlines<Item>(() => performance.now(), (i) => expired.push(i.name));
    const t = performance.now();
    const items = { a: new Item('a'), b: new Item('b'), c: new Item('c'), gone: new Item('gone') };
    d.add(items.a, 60, t);
    d.add(items.gone, 20, t);
    d.add(items.b, 20, t);
    d.add(items.c, 40, t);
    d.remove(items.gone);
    // Wait for all three (a loaded machine delays timers), then check the order.
    for (let i = 0; i < 200 && expired.length < 3; i++) await tick(10);
    await tick(50);
    assert.deepEqual(expired, ['b', 'c', 'a']);
    d.stop();
  });
});

describe('backoff', () => {
  it('doubles up to maxMs and keeps half of each delay fixed', () => {
    const p = { baseMs: 100, maxMs: 1000, attempts: Infinity };
    assert.equal(backoffDelay(p, 0, () => 0), 50);
    assert.equal(backoffDelay(p, 0, () => 1), 100);
    assert.equal(backoffDelay(p, 2, () => 1), 400);
    assert.equal(backoffDelay(p, 50, () => 1), 1000);
    assert.equal(backoffDelay(p, 50, () => 0), 500);
  });
});
