/**
 * Fencing is confirmed by the Consul servers, not by the node's own agent: a
 * client agent cut off from its servers still accepts the node's TTL passes,
 * so a node that trusted those would go on acting as an owner while the
 * servers (and every other node) have counted it gone. Real agents: a dev
 * server and a client agent joined to it, both on loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsulDiscovery } from '../runtime/discovery/consul/consul-discovery.js';
import { startConsulAgent, type ConsulAgent } from './fixtures/consul.js';
import { quietLogger } from './discovery-contract.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('fencing confirmed by the Consul servers', () => {
  let server: ConsulAgent;
  let client: ConsulAgent;
  let discovery: ConsulDiscovery | undefined;

  before(async () => {
    server = await startConsulAgent({ name: 'fencing-server' });
    client = await startConsulAgent({ name: 'fencing-client', join: server.serfAddress });
  });
  after(async () => {
    await discovery?.close().catch(() => {});
    await client?.destroy();
    await server?.destroy();
  });

  test('a node whose agent lost its servers stops being confirmed within the lease, though the agent still takes its TTL passes', { timeout: 60_000 }, async () => {
    discovery = new ConsulDiscovery({ agentUrl: client.url, serviceName: `fence-${process.pid}`, httpCheck: false, logger: quietLogger, requestTimeoutMs: 1000 });
    await discovery.start({ id: 'fenced-node', address: '127.0.0.1', port: 1, linkPort: 2 });
    const deadline = Date.now() + 10_000;
    while (discovery.confirmedUntil() <= Date.now() && Date.now() < deadline) await sleep(50);
    assert.ok(discovery.confirmedUntil() > Date.now(), 'confirmed while the servers are reachable');

    // The agent stays up and keeps answering; only its servers are gone.
    await server.kill();
    const killedAt = Date.now();
    const pass = await fetch(`${client.url}/v1/agent/check/pass/${encodeURIComponent(`fence-${process.pid}:fenced-node:ttl`)}`, { method: 'PUT' });
    assert.equal(pass.status, 200, 'the agent still accepts TTL passes without its servers');
    while (discovery.confirmedUntil() > Date.now() && Date.now() - killedAt < 10_000) await sleep(50);
    const fencedAfter = Date.now() - killedAt;
    assert.ok(discovery.confirmedUntil() <= Date.now(), `still confirmed ${fencedAfter} ms after the servers went away`);
    assert.ok(fencedAfter <= discovery.leaseMs + 1000, `fenced only ${fencedAfter} ms after the servers went away (lease ${discovery.leaseMs} ms)`);

    // Servers back: confirmed again.
    await server.start();
    await fetch(`${client.url}/v1/agent/join/${server.serfAddress}`, { method: 'PUT' }).catch(() => {});
    const back = Date.now() + 30_000;
    while (discovery.confirmedUntil() <= Date.now() && Date.now() < back) await sleep(100);
    assert.ok(discovery.confirmedUntil() > Date.now(), 'confirmed again once the servers answer');
  });
});
