/**
 * Forwarded calls across a node's restart: a node that comes back under the
 * same id and address gets, from peers whose links only blinked, answers
 * still queued for its previous process. Such an answer must settle nothing
 * of the new process: its calls are numbered where the old one's never were.
 * (Both numbered from 1 before: the chaos suite saw a Transfer start answered
 * `null`, an answer meant for another call of the old process.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallForwarder, type ForwarderHost } from '../runtime/cluster/call-forwarder.js';
import type { LinkMessage } from '../runtime/cluster/link-protocol.js';
import { DeadlineWheel, type Expirable } from '../runtime/deadline-wheel.js';
import type { TurnResult } from '../runtime/pool/protocol.js';

function forwarder(incarnation: string, sent: LinkMessage[], wheel: DeadlineWheel<Expirable>): CallForwarder {
  const host: ForwarderHost = {
    selfId: 'n1',
    incarnation,
    callTimeoutMs: 5000,
    wheel,
    owner: () => 'n2',
    send: (_peer, msg) => {
      sent.push(msg);
      return true;
    },
    peerDown: () => false,
    callLocal: () => {},
  };
  return new CallForwarder(host);
}

test('an answer meant for a call of the previous process of this node settles no call of the new one', () => {
  const wheel = new DeadlineWheel<Expirable>();
  try {
    const oldSent: LinkMessage[] = [];
    const old = forwarder('old', oldSent, wheel);
    for (let i = 0; i < 100; i++) old.forward({ type: 'Counter', key: `k${i}`, method: 'add', args: [1] }, { deliver: () => {} }, i);
    const staleIds = oldSent.map((m) => m[1] as number);

    const sent: LinkMessage[] = [];
    const fresh = forwarder('new', sent, wheel);
    const settled: unknown[] = [];
    for (let i = 0; i < 100; i++) fresh.forward({ type: 'Transfer', key: `t${i}`, method: 'start', args: [{}] }, { deliver: (_id, r: TurnResult) => void settled.push(r) }, i);
    // The old process's answers arrive on the new process's link from n2.
    for (const id of staleIds) fresh.answered('n2', id, [1, null]);
    assert.deepEqual(settled, [], 'a stale answer settled a call of the new process');
    // Its own answers still settle its calls.
    fresh.answered('n2', sent[0]![1] as number, [1, 'completed']);
    assert.deepEqual(settled, [[1, 'completed']]);
    old.close();
    fresh.close();
  } finally {
    wheel.close();
  }
});

test("a forwarded call's ack is the number of the oldest call still unanswered, and its made-up key carries its own number", () => {
  const wheel = new DeadlineWheel<Expirable>();
  try {
    const sent: LinkMessage[] = [];
    const f = forwarder('inc1', sent, wheel);
    const call = (i: number): void => f.forward({ type: 'Counter', key: `k${i}`, method: 'add', args: [1] }, { deliver: () => {} }, i);
    const keyNumber = (m: LinkMessage): number => Number((m[6] as string).split('/').at(-1));
    const ack = (m: LinkMessage): number => m[9] as number;
    call(1);
    call(2);
    call(3);
    assert.deepEqual(sent.map(keyNumber), [1, 2, 3]);
    assert.ok(sent.every((m) => (m[6] as string).startsWith('~fwd:n1.inc1/')));
    assert.deepEqual(sent.map(ack), [1, 1, 1]);
    f.answered('n2', sent[0]![1] as number, [1, 1]);
    call(4);
    assert.equal(ack(sent[3]!), 2, 'call 1 answered: the oldest unanswered is 2');
    f.answered('n2', sent[2]![1] as number, [1, 1]);
    call(5);
    assert.equal(ack(sent[4]!), 2, 'call 3 answered, call 2 not: still 2');
    f.answered('n2', sent[1]![1] as number, [1, 1]);
    call(6);
    assert.equal(ack(sent[5]!), 4, 'calls 1-3 answered: 4');
    // Wire ids are the numbers moved by one offset: distinct, in order.
    const ids = sent.map((m) => m[1] as number);
    assert.deepEqual(ids.map((id) => id - ids[0]!), [0, 1, 2, 3, 4, 5]);
    f.close();
  } finally {
    wheel.close();
  }
});
