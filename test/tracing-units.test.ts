/** The pieces of tracing that need no node: traceparent values, where the edge and the links take them, log fields. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTraceparent, isTraceparent, parseTraceparent, traceIdOf } from '../protocol/traceparent.js';
import { parseClientMessage } from '../protocol/wire.js';
import { isLinkMessage, LinkTag } from '../runtime/cluster/link-protocol.js';
import { traceFields } from '../runtime/log.js';
import { OutboxDelivery } from '../runtime/outbox/outbox-delivery.js';
import type { Activation } from '../runtime/turns/activation.js';
import type { OutboxEntry } from '../runtime/record.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

test('traceparent: version 00, lowercase hex, ids not all zero', () => {
  assert.ok(isTraceparent(TP));
  assert.deepEqual(parseTraceparent(TP), { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1 });
  assert.equal(formatTraceparent('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 1), TP);
  assert.equal(traceIdOf(TP), '4bf92f3577b34da6a3ce929d0e0e4736');
  for (const bad of ['', TP.toUpperCase(), TP.replace(/^00/, '01'), TP + '-00', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`, 'x'.repeat(55), 7, null, undefined, {}]) {
    assert.equal(isTraceparent(bad), false, JSON.stringify(bad));
  }
});

test('the gateway edge keeps a valid traceparent and drops any other, never refusing the call for it', () => {
  const base = { op: 'call', id: 1, actor: 'Counter', key: 'k', method: 'add', args: [1] };
  assert.equal((parseClientMessage({ ...base, traceparent: TP }) as { traceparent?: string }).traceparent, TP);
  for (const bad of ['nope', 42, { x: 1 }, ['a'], TP.toUpperCase()]) {
    const m = parseClientMessage({ ...base, traceparent: bad }) as unknown as Record<string, unknown>;
    assert.equal(m.rejected, undefined, JSON.stringify(bad));
    assert.equal('traceparent' in m, false);
  }
  assert.equal('traceparent' in (parseClientMessage(base) as object), false, 'absent stays absent');
  assert.equal((parseClientMessage({ op: 'tell', actor: 'Counter', key: 'k', method: 'add', traceparent: TP }) as { traceparent?: string }).traceparent, TP);
});

test('link frames: a call or tell may end with a valid traceparent, nothing else', () => {
  const call = [LinkTag.Call, 1, 'Counter', 'k', 'add', [1], 'idem', null, 1000, -1];
  const tell = [LinkTag.Tell, 'Counter', 'k', 'add', [1], null];
  assert.ok(isLinkMessage(call));
  assert.ok(isLinkMessage([...call, TP]));
  assert.ok(!isLinkMessage([...call, 'not a traceparent']));
  assert.ok(!isLinkMessage([...call, TP, 'more']));
  assert.ok(isLinkMessage(tell));
  assert.ok(isLinkMessage([...tell, TP]));
  assert.ok(!isLinkMessage([...tell, 5]));
});

test('log fields: one traceId, several traceIds, or none', () => {
  const other = '00-' + 'a'.repeat(32) + '-' + 'b'.repeat(16) + '-00';
  assert.deepEqual(traceFields([null, undefined]), {});
  assert.deepEqual(traceFields([TP, null, TP]), { traceId: traceIdOf(TP) });
  assert.deepEqual(traceFields([TP, other]), { traceIds: [traceIdOf(TP), 'a'.repeat(32)] });
});

test("an undeliverable tell's log line carries its turn's trace id", () => {
  const lines: Record<string, unknown>[] = [];
  const delivery = new OutboxDelivery({
    route: (_req, sink) => sink.deliver(0, [0, { code: 'E_UNKNOWN_METHOD', message: 'no such method' }]),
    current: () => true,
    acknowledged: () => {},
    callTimeoutMs: 1000,
    log: { log: (_level, event, fields) => lines.push({ event, ...fields }) },
  });
  const act = { type: 'Relay', key: 'r', senderId: 'Relay/r', outboxLow: 1, delivering: new Set<number>() } as unknown as Activation;
  const traced: OutboxEntry = [1, 'Counter', 'c', 'nope', [], null, TP];
  const plain: OutboxEntry = [2, 'Counter', 'c', 'nope', [], null];
  delivery.deliver(act, [traced, plain]);
  assert.deepEqual(lines.map((l) => [l.event, l.traceId]), [['tell_undeliverable', traceIdOf(TP)], ['tell_undeliverable', undefined]]);
  delivery.close();
});
