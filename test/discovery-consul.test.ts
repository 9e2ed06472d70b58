/** The discovery contract against a real Consul dev agent, plus what only Consul has: agent restarts. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { discoveryContract, quietLogger, ChildMember, TestNode, nextCluster, whenMembers, hasExactly, includes, lacks, sleep, startCluster } from './discovery-contract.js';
import { startConsulAgent, findFreePortBlock, type ConsulAgent } from './fixtures/consul.js';
import { createDiscovery, type DiscoveryConfig, type Member } from '../runtime/discovery/index.js';

let agent: ConsulAgent | undefined;
function agentUrl(): string {
  if (agent === undefined) throw new Error('consul agent not started');
  return agent.url;
}
/** Ids of the passing instances of `service`, straight from the agent. */
async function passingIds(service: string): Promise<string[]> {
  try {
    const res = await fetch(`${agentUrl()}/v1/health/service/${service}?passing=true`, { signal: AbortSignal.timeout(1_000) });
    if (!res.ok) return [];
    const entries = (await res.json()) as Array<{ Service: { ID: string } }>;
    return entries.map((e) => e.Service.ID).sort();
  } catch {
    return [];
  }
}

/** Polls `check` every 50 ms until it holds; resolves with ms since `since`, rejects after `boundMs`. */
async function pollUntil(check: () => Promise<boolean>, boundMs: number, since: number, what: string): Promise<number> {
  const deadline = performance.now() + boundMs;
  while (performance.now() < deadline) {
    if (await check()) return performance.now() - since;
    await sleep(50);
  }
  throw new Error(`${what}: not true within ${boundMs} ms`);
}

const consulConfig = (cluster: string): Omit<DiscoveryConfig, 'logger'> => ({ engine: 'consul', consul: { agentUrl: agentUrl(), serviceName: cluster } });

const harness = {
  engine: 'consul' as const,
  async setup() {
    agent ??= await startConsulAgent();
  },
  async teardown() {
    // The agent is shared with the engine-specific suite below; stopped in the last after().
  },
  config: (_peers: readonly Member[], cluster: string) => consulConfig(cluster),
  // Defaults: TTL 2 s passed every 500 ms, HTTP check every 1 s with a 500 ms timeout, watch wait 2 s.
  crashBoundMs: 5_000,
  leaveBoundMs: 1_000,
  joinBoundMs: 5_000,
};

discoveryContract(harness);

describe('consul engine specifics', () => {
  const nodes: TestNode[] = [];
  const spawned: ChildMember[] = [];
  before(async () => {
    await harness.setup();
  });
  after(async () => {
    for (const c of spawned) c.kill();
    await Promise.all(nodes.map((n) => n.stop()));
    await agent?.stop();
    agent = undefined;
  });

  it('after an agent restart every registration is restored and the watch follows the new agent', async (t) => {
    const { nodes: cluster, cluster: service, peers } = await startCluster(harness, 3);
    nodes.push(...cluster);
    const want = peers.map((p) => p.id).sort().join(',');
    const t0 = performance.now();
    await agent!.restart();
    const restartedAfter = performance.now() - t0;
    // The new agent starts empty: each engine must notice (its TTL pass fails) and register again.
    const restored = await pollUntil(async () => (await passingIds(service)).join(',') === want, 10_000, t0, 'all three passing in the new agent');
    for (const n of cluster) assert.ok(n.logs.some((e) => e.event === 'consul.reregistered'), `${n.member.id} logged consul.reregistered`);
    // Lists may never have emptied (the watch keeps its last list while the agent is down), so wait for
    // them to be full again and then prove the watch follows the new agent: a crash is seen promptly.
    await Promise.all(cluster.map((n) => whenMembers(n.d, hasExactly(peers.map((p) => p.id)), 5_000, performance.now(), `${n.member.id} sees all after the restart`)));
    t.diagnostic(`consul: agent restart took ${restartedAfter.toFixed(0)} ms; all registrations passing again ${restored.toFixed(0)} ms after it began`);
    const [a, b, c] = cluster;
    const t1 = performance.now();
    await b.stopAnswering();
    const seen = await Promise.all([a, c].map((n) => whenMembers(n.d, lacks(b.member.id), harness.crashBoundMs, t1, `${n.member.id} drops ${b.member.id}`)));
    t.diagnostic(`consul: crash after restart seen after ${seen.map((x) => x.toFixed(0)).join(', ')} ms`);
  });

  it('start() rejects with a clear message when the agent is unreachable', async () => {
    const port = await findFreePortBlock(); // free, nothing listens there
    const d = await createDiscovery({ engine: 'consul', consul: { agentUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 500 }, logger: quietLogger });
    await assert.rejects(d.start({ id: 'x', address: '127.0.0.1', port: 1, linkPort: 2 }), { code: 'E_UNAVAILABLE', message: /cannot register with the agent at http:\/\/127\.0\.0\.1:\d+ .*is the agent running\?/ });
  });

  it('start() rejects when this node never passes its HTTP check, and leaves nothing registered', async () => {
    const cluster = nextCluster('consul');
    const a = await TestNode.listen(`${cluster}-a`);
    nodes.push(a);
    a.ready = false;
    const d = await createDiscovery({ engine: 'consul', consul: { agentUrl: agentUrl(), serviceName: cluster, readyTimeoutMs: 1_500 }, logger: quietLogger });
    await assert.rejects(d.start(a.member), { code: 'E_UNAVAILABLE', message: /did not become passing in Consul within 1500 ms/ });
    const res = await fetch(`${agentUrl()}/v1/agent/services`);
    const services = (await res.json()) as Record<string, unknown>;
    assert.equal(services[a.member.id], undefined);
  });

  it('with the HTTP check off, a frozen member is dropped when its TTL expires, and passes again when it resumes', async (t) => {
    // The TTL check alone: what catches a process that is alive enough to keep its socket
    // but no longer runs (or lost its link to the agent). Expected: ttl (2 s) after the last pass.
    const cluster = nextCluster('consul');
    const victim = await ChildMember.spawn(`${cluster}-frozen`);
    spawned.push(victim);
    const w = await TestNode.listen(`${cluster}-w`);
    nodes.push(w);
    await w.start(consulConfig(cluster));
    await victim.start({ engine: 'consul', consul: { agentUrl: agentUrl(), serviceName: cluster, httpCheck: false } });
    await whenMembers(w.d, includes(victim.member.id), 5_000, performance.now(), 'victim seen');
    const gone: number[] = [];
    for (let run = 0; run < 3; run++) {
      await sleep(Math.floor(Math.random() * 500));
      const t0 = performance.now();
      victim.signal('SIGSTOP');
      gone.push(await whenMembers(w.d, lacks(victim.member.id), 5_000, t0, 'TTL expiry seen'));
      victim.signal('SIGCONT');
      await whenMembers(w.d, includes(victim.member.id), 5_000, performance.now(), 'back after the next pass');
    }
    t.diagnostic(`consul: TTL only, SIGSTOP -> removed after ${gone.map((x) => x.toFixed(0)).join(', ')} ms (ttl 2000 ms, pass every 500 ms)`);
    for (const g of gone) assert.ok(g >= 1_400 && g < 3_500, `TTL expiry seen after ${g.toFixed(0)} ms`);
  });

  it('checks options where they enter, naming the option', async () => {
    await assert.rejects(createDiscovery({ engine: 'consul', consul: { agentUrl: 'not a url' } }), /agentUrl must be a URL/);
    await assert.rejects(createDiscovery({ engine: 'consul', consul: { ttlMs: 2000, passIntervalMs: 1000 } }), /passIntervalMs/);
    await assert.rejects(createDiscovery({ engine: 'consul', consul: { deregisterCriticalAfterMs: 10_000 } }), /deregisterCriticalAfterMs/);
    await assert.rejects(createDiscovery({ engine: 'consul', consul: { serviceName: 'has space' } }), /serviceName/);
    const d = await createDiscovery({ engine: 'consul', consul: { agentUrl: agentUrl() }, logger: quietLogger });
    await assert.rejects(d.start({ id: 'a', address: '127.0.0.1', port: 70_000, linkPort: 2 }), /self\.port/);
    await d.close();
  });
});
