/** The discovery contract against the static engine, plus what only the static engine has: the peer list format. */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { discoveryContract, quietLogger, TestNode, nextCluster, sleep } from './discovery-contract.js';
import { createDiscovery, formatPeers, parsePeers, type Member } from '../runtime/discovery/index.js';

discoveryContract({
  engine: 'static',
  config: (peers) => ({ engine: 'static', static: { peers } }),
  // Defaults: a probe every 1000 ms with a 500 ms deadline, down after one failure.
  crashBoundMs: 5_000,
  leaveBoundMs: 3_000,
  joinBoundMs: 5_000,
});

describe('static peer list format', () => {
  it('parses [id@]host:port/linkPort entries, IPv6 in brackets, default id host:port', () => {
    assert.deepEqual(parsePeers(' n1@10.0.0.1:8080/8081, 10.0.0.2:8080/8081 ,[fd00::3]:9000/9001,'), [
      { id: 'n1', address: '10.0.0.1', port: 8080, linkPort: 8081 },
      { id: '10.0.0.2:8080', address: '10.0.0.2', port: 8080, linkPort: 8081 },
      { id: '[fd00::3]:9000', address: 'fd00::3', port: 9000, linkPort: 9001 },
    ]);
    assert.deepEqual(parsePeers(''), []);
  });

  it('round-trips through formatPeers', () => {
    const text = 'a@h1:1/2,b@[::1]:3/4';
    assert.equal(formatPeers(parsePeers(text)), text);
  });

  it('rejects malformed entries, bad ports and duplicates with a TypeError naming the entry', () => {
    for (const bad of ['h:80', 'h:80/', 'h/80', 'h:0/1', 'h:80/70000', 'a b@h:1/2', 'x@@h:1/2']) {
      assert.throws(() => parsePeers(bad), (e: unknown) => e instanceof TypeError && e.message.includes('peers entry'), bad);
    }
    assert.throws(() => parsePeers('a@h:1/2,a@g:1/2'), /id "a" twice/);
    assert.throws(() => parsePeers('a@h:1/2,b@h:1/3'), /h:1 twice/);
  });
});

describe('static engine specifics', () => {
  const nodes: TestNode[] = [];
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('with probe: false the list is trusted: every peer is listed at once, dead or not', async () => {
    const cluster = nextCluster('static');
    const a = await TestNode.listen(`${cluster}-a`);
    nodes.push(a);
    const ghost: Member = { id: `${cluster}-ghost`, address: '127.0.0.1', port: 1, linkPort: 2 };
    await a.start({ engine: 'static', static: { peers: [a.member, ghost], probe: false } });
    assert.deepEqual(a.d.members().map((m) => m.id).sort(), [a.member.id, ghost.id].sort());
    await a.d.leave();
    assert.deepEqual(a.d.members().map((m) => m.id), [ghost.id]);
  });

  it('recognises itself in the list by host:port when the list names it by another id', async () => {
    const cluster = nextCluster('static');
    const a = await TestNode.listen(`${cluster}-a`);
    nodes.push(a);
    await a.start({ engine: 'static', static: { peers: `127.0.0.1:${a.member.port}/${a.member.linkPort}` } });
    assert.deepEqual(a.d.members(), [a.member]);
  });

  it('a dead peer is not listed, and appears once its health endpoint answers', async () => {
    const cluster = nextCluster('static');
    const [a, b] = await Promise.all([TestNode.listen(`${cluster}-a`), TestNode.listen(`${cluster}-b`)]);
    nodes.push(a, b);
    b.ready = false;
    await a.start({ engine: 'static', static: { peers: [a.member, b.member], probe: { intervalMs: 200, timeoutMs: 100 } } });
    assert.deepEqual(a.d.members(), [a.member]);
    b.ready = true;
    await sleep(600);
    assert.deepEqual(a.d.members().map((m) => m.id), [a.member.id, b.member.id]);
  });

  it('failuresBeforeDown tolerates a single failed probe', async () => {
    const cluster = nextCluster('static');
    const [a, b] = await Promise.all([TestNode.listen(`${cluster}-a`), TestNode.listen(`${cluster}-b`)]);
    nodes.push(a, b);
    await a.start({ engine: 'static', static: { peers: [a.member, b.member], probe: { intervalMs: 200, timeoutMs: 100, failuresBeforeDown: 3 } } });
    let changes = 0;
    a.d.onChange(() => (changes += 1));
    b.ready = false;
    await sleep(250); // one or two failed probes
    b.ready = true;
    await sleep(500);
    assert.equal(changes, 0);
  });

  it('start() rejects, naming the URL, when its own health endpoint never answers', async () => {
    const cluster = nextCluster('static');
    const a = await TestNode.listen(`${cluster}-a`);
    nodes.push(a);
    a.ready = false;
    const d = await createDiscovery({ engine: 'static', static: { peers: [], readyTimeoutMs: 800 }, logger: quietLogger });
    await assert.rejects(d.start(a.member), { code: 'E_UNAVAILABLE', message: /health probe \(http:\/\/127\.0\.0\.1:\d+\/health\/ready\) did not pass within 800 ms/ });
  });

  it('checks options where they enter, naming the option', async () => {
    await assert.rejects(createDiscovery({ engine: 'static' }), /needs a static section/);
    await assert.rejects(createDiscovery({ engine: 'static', static: { peers: 'nonsense' } }), /peers entry "nonsense"/);
    await assert.rejects(createDiscovery({ engine: 'static', static: { peers: [], probe: { intervalMs: 100, timeoutMs: 100 } } }), /probe\.timeoutMs/);
    await assert.rejects(createDiscovery({ engine: 'static', static: { peers: [], probe: { failuresBeforeDown: 0 } } }), /probe\.failuresBeforeDown/);
    await assert.rejects(createDiscovery({ engine: 'nope' as 'static' }), /engine must be one of static, consul/);
    const d = await createDiscovery({ engine: 'static', static: { peers: [] }, logger: quietLogger });
    await assert.rejects(d.start({ id: 'bad id', address: '127.0.0.1', port: 1, linkPort: 2 }), /self\.id/);
    await assert.rejects(d.start({ id: 'a', address: '127.0.0.1', port: 1, linkPort: 2, meta: { zone: 'x' } }), /reserved/);
    await d.close();
  });
});
