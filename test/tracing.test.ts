/**
 * Traces: one client call with a W3C traceparent, sent to a node that does
 * not own its actor, makes one connected trace: gateway (the client's span
 * its parent) → forward on the receiving node → turn → commit on the owner,
 * each span on the node that made it; the turn's own calls and tells join
 * it. Without --otel-endpoint nothing is exported and no frame grows.
 *
 * Two nodes in this process on one embedded grid, found by static discovery
 * on free 127.0.0.1 ports; the OTLP/HTTP receiver is in the test process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../runtime/cli/free-port.js';
import { EmbeddedGrid } from '../grid/embedded/embedded-grid.js';
import { LinkTag } from '../runtime/cluster/link-protocol.js';
import type { TroupeNode } from '../runtime/node.js';
import { isTraceparent } from '../protocol/traceparent.js';
import { startNode } from './fixtures/node.js';
import { OtlpReceiver, type ReceivedSpan } from './fixtures/otlp-receiver.js';
import { RawClient } from './fixtures/raw-client.js';
import { until } from './fixtures/until.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { context, trace, ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';
import { connect } from '../client/index.js';

/** The smallest context manager that follows async calls, so the app's active span is the caller's (as an app's SDK setup gives). */
class AlsContextManager implements ContextManager {
  private readonly als = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.als.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.als.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    return this;
  }
}

const SECRET = 'test-cluster-secret-0123456789';
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
const CLIENT_TRACEPARENT = `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`;
const KIND = { internal: 1, server: 2, client: 3 } as const;


/** What the node's privates the test looks into: placement and the link transport. */
interface Insides {
  cluster: { placement: { owner(type: string, key: string): string; memberIds: readonly string[] } };
  transport: { send(peer: unknown, msg: unknown): boolean };
}
const insides = (n: TroupeNode): Insides => n as unknown as Insides;

interface TwoNodes {
  a: TroupeNode;
  b: TroupeNode;
  grid: EmbeddedGrid;
  /** Every call frame node `a` sent on its links. */
  linkCalls: unknown[][];
  stop(): Promise<void>;
}

/** Two nodes `a` and `b` in one cluster, each with `flags`. */
async function twoNodes(tag: string, flags: string[]): Promise<TwoNodes> {
  const [pa, la, pb, lb] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const peers = `${tag}-a@127.0.0.1:${pa}/${la},${tag}-b@127.0.0.1:${pb}/${lb}`;
  const grid = new EmbeddedGrid();
  await grid.start();
  const common = ['--discovery', 'static', '--peers', peers, '--threads', '1', ...flags];
  const env = { TROUPE_CLUSTER_SECRET: SECRET };
  const [a, b] = await Promise.all([
    startNode(['--node-id', `${tag}-a`, '--port', String(pa), '--link-port', String(la), ...common], { grid, env }),
    startNode(['--node-id', `${tag}-b`, '--port', String(pb), '--link-port', String(lb), ...common], { grid, env }),
  ]);
  for (const n of [a, b]) await until('both members seen', async () => insides(n).cluster.placement.memberIds.length, (k) => k === 2, 15_000);
  const linkCalls: unknown[][] = [];
  const t = insides(a).transport;
  const send = t.send.bind(t);
  t.send = (peer, msg) => {
    if (Array.isArray(msg) && msg[0] === LinkTag.Call) linkCalls.push(msg);
    return send(peer, msg);
  };
  return {
    a,
    b,
    grid,
    linkCalls,
    stop: async () => {
      await Promise.all([a.stop(1000), b.stop(1000)]);
      await grid.close();
    },
  };
}

/** A key of `type` that node `b` owns, as `a` sees it. */
function keyOwnedByB(c: TwoNodes, type: string, prefix: string): string {
  for (let i = 0; i < 10_000; i++) if (insides(c.a).cluster.placement.owner(type, `${prefix}${i}`) === c.b.config.nodeId) return `${prefix}${i}`;
  throw new Error('no key owned by b');
}

function keyOwnedByA(c: TwoNodes, type: string, prefix: string): string {
  for (let i = 0; i < 10_000; i++) if (insides(c.a).cluster.placement.owner(type, `${prefix}${i}`) === c.a.config.nodeId) return `${prefix}${i}`;
  throw new Error('no key owned by a');
}

const one = (spans: readonly ReceivedSpan[], name: string, pred: (s: ReceivedSpan) => boolean = () => true): ReceivedSpan => {
  const found = spans.filter((s) => s.name === name && pred(s));
  assert.equal(found.length, 1, `one ${name} span, got ${found.length}: ${JSON.stringify(spans.map((s) => [s.name, s.attributes['troupe.actor.type']]))}`);
  return found[0]!;
};

describe('traces across two nodes (--otel-endpoint)', () => {
  let receiver: OtlpReceiver;
  let c: TwoNodes;
  let client: RawClient;

  before(async () => {
    receiver = await OtlpReceiver.start();
    c = await twoNodes('tr', ['--otel-endpoint', receiver.url]);
    client = await RawClient.connect(c.a.port);
  });
  after(async () => {
    client?.close();
    await c?.stop();
    await receiver?.close();
  });

  test('a call forwarded to its owner makes one trace: gateway → forward on the first node, turn → commit on the owner', async () => {
    const key = keyOwnedByB(c, 'Counter', 'fw-');
    const reply = await client.call('Counter', key, 'add', [5], { traceparent: CLIENT_TRACEPARENT });
    assert.deepEqual({ op: reply.op, value: reply.value }, { op: 'result', value: 5 });
    assert.deepEqual(Object.keys(reply).sort(), ['id', 'op', 'value'], 'the reply carries nothing more');

    const byKey = (s: ReceivedSpan): boolean => s.attributes['troupe.actor.key'] === key;
    const spans = await until('four spans exported', async () => receiver.spans.filter(byKey), (s) => s.length >= 4, 10_000);
    assert.deepEqual([...new Set(spans.map((s) => s.traceId))], [CLIENT_TRACE], 'one trace: the client\'s');

    const gateway = one(spans, 'gateway');
    const forward = one(spans, 'forward');
    const turn = one(spans, 'turn');
    const commit = one(spans, 'commit');
    assert.equal(gateway.parentSpanId, CLIENT_SPAN, 'gateway ← the client\'s span');
    assert.equal(forward.parentSpanId, gateway.spanId, 'forward ← gateway');
    assert.equal(turn.parentSpanId, forward.spanId, 'turn ← forward (the remote parent from the link)');
    assert.equal(commit.parentSpanId, turn.spanId, 'commit ← turn');

    const a = c.a.config.nodeId;
    const b = c.b.config.nodeId;
    assert.deepEqual([gateway, forward, turn, commit].map((s) => s.resource['troupe.node.id']), [a, a, b, b], 'each span on the node that made it');
    assert.deepEqual([gateway, forward, turn, commit].map((s) => s.attributes['troupe.node.id']), [a, a, b, b]);
    for (const s of [gateway, forward, turn, commit]) {
      assert.equal(s.resource['service.name'], 'troupe');
      assert.equal(s.attributes['troupe.actor.type'], 'Counter');
      assert.equal(s.attributes['troupe.method'], 'add');
      assert.equal(s.status, 0, `${s.name} not failed`);
      assert.ok(s.endNs >= s.startNs, `${s.name} ends after it starts`);
    }
    assert.deepEqual([gateway.kind, forward.kind, turn.kind, commit.kind], [KIND.server, KIND.client, KIND.server, KIND.internal]);
    // Nesting in time, give or take 2 ms: the SDK anchors each span's start on Date.now(), whole milliseconds.
    const slack = 2_000_000n;
    assert.ok(forward.startNs + slack >= gateway.startNs && forward.endNs <= gateway.endNs + slack, 'forward within gateway');
    assert.ok(commit.startNs + slack >= turn.startNs, 'commit after the turn began');

    const frame = c.linkCalls.find((m) => m[3] === key)!;
    assert.equal(frame.length, 11, 'the link call carries the trace context');
    assert.equal(frame[10], `00-${CLIENT_TRACE}-${forward.spanId}-01`, 'the forward span\'s context');
  });

  test('a failed turn marks its spans with the error code', async () => {
    const key = keyOwnedByB(c, 'Counter', 'bad-');
    const reply = await client.call('Counter', key, 'add', ['not a number'], { traceparent: CLIENT_TRACEPARENT });
    assert.equal(reply.code, 'E_ACTOR_FAILED');
    const spans = await until('spans exported', async () => receiver.spans.filter((s) => s.attributes['troupe.actor.key'] === key), (s) => s.length >= 3, 10_000);
    for (const name of ['gateway', 'forward', 'turn']) {
      const s = one(spans, name);
      assert.equal(s.attributes['troupe.error.code'], 'E_ACTOR_FAILED', name);
      assert.equal(s.status, 2, `${name} has error status`);
    }
  });

  test("a turn's call to another actor and its tell join the trace under its turn span", async () => {
    const relayKey = keyOwnedByB(c, 'Relay', 'relay-');
    const callKey = keyOwnedByA(c, 'Counter', 'callee-');
    const tellKey = keyOwnedByA(c, 'Counter', 'told-');
    const tp = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
    assert.equal((await client.call('Relay', relayKey, 'forwardAwait', [callKey, 2], { traceparent: tp })).value, 2);
    assert.equal((await client.call('Relay', relayKey, 'forward', [tellKey, 3], { traceparent: tp })).value, true);
    const trace = (): ReceivedSpan[] => receiver.spans.filter((s) => s.traceId === 'ab'.repeat(16));
    /** The names of a span's ancestors, nearest first. */
    const chain = (spans: readonly ReceivedSpan[], s: ReceivedSpan | undefined): string[] => {
      const byId = new Map(spans.map((x) => [x.spanId, x]));
      const out: string[] = [];
      for (let p = byId.get(s?.parentSpanId ?? ''); p !== undefined; p = byId.get(p.parentSpanId)) out.push(`${p.name}:${p.attributes['troupe.actor.type']}`);
      return out;
    };
    const turnOf = (spans: readonly ReceivedSpan[], key: string): ReceivedSpan | undefined => spans.find((s) => s.name === 'turn' && s.attributes['troupe.actor.key'] === key);
    // The two nodes export on their own schedules: wait until both chains are in (the root gateway span included).
    const spans = await until('both chains exported', async () => trace(), (t) => chain(t, turnOf(t, callKey)).length >= 4 && chain(t, turnOf(t, tellKey)).length >= 4, 10_000);
    const calleeTurn = one(spans, 'turn', (s) => s.attributes['troupe.actor.key'] === callKey);
    // b's Relay turn calls a's Counter: forwarded back over the link, under the Relay turn.
    assert.deepEqual(chain(spans, calleeTurn), ['forward:Counter', 'turn:Relay', 'forward:Relay', 'gateway:Relay']);
    assert.equal(calleeTurn.resource['troupe.node.id'], c.a.config.nodeId);
    const toldTurn = one(spans, 'turn', (s) => s.attributes['troupe.actor.key'] === tellKey);
    assert.deepEqual(chain(spans, toldTurn), ['forward:Counter', 'turn:Relay', 'forward:Relay', 'gateway:Relay'], 'the tell, delivered from the outbox after the commit, still under its turn');
  });

  test('a malformed traceparent is ignored: the call is served and starts its own trace', async () => {
    const key = keyOwnedByB(c, 'Counter', 'malformed-');
    for (const bad of ['00-xyz', `01-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, `00-${'0'.repeat(32)}-${CLIENT_SPAN}-01`, 42, { a: 1 }]) {
      const reply = await client.call('Counter', key, 'add', [1], { traceparent: bad });
      assert.equal(reply.op, 'result', JSON.stringify(bad));
    }
    const gateways = await until('gateway spans', async () => receiver.spans.filter((s) => s.name === 'gateway' && s.attributes['troupe.actor.key'] === key), (s) => s.length >= 5, 10_000);
    for (const g of gateways) {
      assert.equal(g.parentSpanId, '', 'a root span');
      assert.notEqual(g.traceId, CLIENT_TRACE);
    }
  });

  test('HTTP: the traceparent header is the gateway span\'s parent', async () => {
    const key = keyOwnedByB(c, 'Counter', 'http-');
    const tp = `00-${'12'.repeat(16)}-${'34'.repeat(8)}-01`;
    const res = await fetch(`http://127.0.0.1:${c.a.port}/v1/actors/Counter/${key}/add`, { method: 'POST', headers: { traceparent: tp, 'content-type': 'application/json' }, body: '[4]' });
    assert.equal(res.status, 200, await res.clone().text());
    // Each node exports its own spans in its own batches: b's turn and commit can arrive before a's gateway and forward.
    const spans = await until('http trace', async () => receiver.spans.filter((s) => s.traceId === '12'.repeat(16)), (s) => ['gateway', 'forward', 'turn', 'commit'].every((n) => s.some((x) => x.name === n)), 10_000);
    assert.equal(one(spans, 'gateway').parentSpanId, '34'.repeat(8));
    assert.equal(one(spans, 'turn').parentSpanId, one(spans, 'forward').spanId);
  });
});

describe('the SDK with @opentelemetry/api in the app', () => {
  let receiver: OtlpReceiver;
  let c: TwoNodes;

  before(async () => {
    receiver = await OtlpReceiver.start();
    c = await twoNodes('sdk', ['--otel-endpoint', receiver.url]);
    context.setGlobalContextManager(new AlsContextManager());
  });
  after(async () => {
    context.disable();
    await c?.stop();
    await receiver?.close();
  });

  test("sends the active span's traceparent with calls and tells, and none without an active span", async () => {
    const sdk = await connect({ url: `ws://127.0.0.1:${c.a.port}/v1/ws` });
    try {
      const key = keyOwnedByB(c, 'Counter', 'sdk-');
      const told = keyOwnedByB(c, 'Counter', 'sdk-told-');
      const appSpan = trace.wrapSpanContext({ traceId: 'ef'.repeat(16), spanId: '01'.repeat(8), traceFlags: 1 });
      await context.with(trace.setSpan(ROOT_CONTEXT, appSpan), async () => {
        assert.equal(await sdk.call('Counter', key, 'add', [1]), 1);
        sdk.tell('Counter', told, 'add', [1]);
      });
      assert.equal(await sdk.call('Counter', key, 'add', [1]), 2, 'outside the span');
      const gateways = await until('gateway spans', async () => receiver.spans.filter((s) => s.name === 'gateway' && [key, told].includes(String(s.attributes['troupe.actor.key']))), (g) => g.length >= 3, 10_000);
      const inApp = gateways.filter((g) => g.traceId === 'ef'.repeat(16));
      assert.equal(inApp.length, 2, 'the call and the tell in the app\'s trace');
      for (const g of inApp) assert.equal(g.parentSpanId, '01'.repeat(8));
      assert.equal(gateways.filter((g) => g.parentSpanId === '').length, 1, 'the call outside any span starts a trace of its own');
    } finally {
      await sdk.close();
    }
  });
});

describe('without --otel-endpoint', () => {
  let receiver: OtlpReceiver;
  let c: TwoNodes;
  let client: RawClient;

  before(async () => {
    receiver = await OtlpReceiver.start();
    c = await twoNodes('untr', []);
    client = await RawClient.connect(c.a.port);
  });
  after(async () => {
    client?.close();
    await c?.stop();
    await receiver?.close();
  });

  test('no span is exported and a forwarded call\'s link frame has no extra field', async () => {
    const key = keyOwnedByB(c, 'Counter', 'plain-');
    const reply = await client.call('Counter', key, 'add', [1]);
    assert.deepEqual(Object.keys(reply).sort(), ['id', 'op', 'value']);
    const frame = c.linkCalls.find((m) => m[3] === key)!;
    assert.equal(frame.length, 10, 'the ten elements of an untraced call');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(receiver.posts, 0, 'nothing sent anywhere');
  });

  test("a client's traceparent is still carried to the owner as it came (no span made)", async () => {
    const key = keyOwnedByB(c, 'Counter', 'pass-');
    await client.call('Counter', key, 'add', [1], { traceparent: CLIENT_TRACEPARENT });
    const frame = c.linkCalls.find((m) => m[3] === key)!;
    assert.equal(frame.length, 11);
    assert.ok(isTraceparent(frame[10]));
    assert.equal(frame[10], CLIENT_TRACEPARENT);
  });
});
