/** A client that sends but does not read: the gateway stops taking its work instead of buffering without bound. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';
import { RawClient } from './fixtures/raw-client.js';

let node: TroupeNode;
before(async () => {
  node = await startNode(['--max-frame', String(256 * 1024)]);
});
after(async () => {
  await node.stop();
});

test('a client that stops reading is held back, then cut off with close code 1013; others carry on', async () => {
  const slow = await RawClient.connect(node.port);
  const other = await RawClient.connect(node.port);
  try {
    assert.equal((await slow.call('Log', 'bp', 'append', ['x'.repeat(40 * 1024)])).value, 1);
    // Stop reading: the kernel buffers fill, then the node's send buffer.
    const socket = (slow.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    let sent = 0;
    const send = (n: number): void => {
      for (let i = 0; i < n && slow.ws.readyState === slow.ws.OPEN; i++) {
        slow.sendBinary([{ op: 'call', id: `bp${sent}`, actor: 'Log', key: 'bp', method: 'items', args: [] }]);
        sent++;
      }
    };
    // First enough calls that their answers (40 KiB each) fill the socket and the node's buffer...
    send(300);
    await new Promise((r) => setTimeout(r, 1000));
    // ...then more: the node holds them back, and past its bound cuts the client off.
    for (let round = 0; round < 30; round++) {
      send(100);
      await new Promise((r) => setTimeout(r, 5));
    }
    // The other client is still served while this goes on (generous deadline: the test shares its CPU with the node).
    other.sendBinary({ op: 'call', id: 'other-1', actor: 'Counter', key: 'bp-other', method: 'add', args: [1] });
    assert.equal((await other.reply('other-1', 30_000)).value, 1);
    socket.resume();
    const closed = await Promise.race([slow.closed(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error('the node never cut the client off')), 30_000))]);
    assert.equal(closed.code, 1013);
    assert.match(closed.reason, /not reading/);
    // Far fewer answers were produced than calls sent: the node stopped taking work.
    assert.ok(slow.received.length < sent, `answered ${slow.received.length} of ${sent}`);
    assert.equal((await other.call('Counter', 'bp-other', 'add', [1])).value, 2);
  } finally {
    slow.ws.terminate();
    other.close();
  }
});
