/**
 * Where the chaos cluster's processes run. Two layouts:
 *
 * - `loopback`: everything on 127.0.0.1, one Consul dev agent shared by every
 *   node (the layout the fencing and exactly-once tests use);
 * - `lab`: each Troupe node in a network namespace of its own (test/fixtures/
 *   netns.ts) with its own Consul client agent, as on a machine of its own;
 *   the Consul server and the Hazelcast members in the root namespace on the
 *   bridge's address. Cutting a node's link then cuts it off from its peers,
 *   the grid and the Consul server at once, while its own agent keeps
 *   answering it; clients still reach it through its side link, so a
 *   cut-off node that kept serving would be seen doing so.
 *
 * Only addresses and namespaces created here are used; `remove()` deletes them.
 */
import { startConsulAgent, type ConsulAgent } from '../fixtures/consul.js';
import { createNetLab, type NetLab } from '../fixtures/netns.js';

export interface NodePlace {
  /** The address clients (in the root namespace) use for the node's gateway. */
  readonly clientHost: string;
  /** The Consul agent this node talks to (its own in a lab, the shared one otherwise). */
  readonly agent: ConsulAgent;
  /** The node's namespace, in a lab. */
  readonly netns?: string;
  /** Flags that put the node on this place: listen and advertise addresses, its agent. */
  readonly flags: readonly string[];
}

export interface Topology {
  readonly kind: 'loopback' | 'lab';
  /** The agent every node's membership is decided by: the shared dev agent, or the lab's server. */
  readonly server: ConsulAgent;
  /** Address the Hazelcast members bind (undefined: loopback). */
  readonly gridBind?: string;
  readonly places: readonly NodePlace[];
  /** Lab only: cut node i's link / heal it. */
  cut(i: number): void;
  heal(i: number): void;
  /** Stops every agent and removes the namespaces and links. Idempotent. */
  remove(): Promise<void>;
}

export async function loopbackTopology(nodes: number): Promise<Topology> {
  const agent = await startConsulAgent();
  const place: NodePlace = { clientHost: '127.0.0.1', agent, flags: ['--consul', agent.url] };
  return {
    kind: 'loopback',
    server: agent,
    places: Array.from({ length: nodes }, () => place),
    cut: () => {
      throw new Error('partitions need the lab topology');
    },
    heal: () => {},
    remove: () => agent.destroy(),
  };
}

export async function labTopology(nodes: number, progress: (m: string) => void): Promise<Topology> {
  const lab: NetLab = createNetLab({ hosts: nodes, sideLinks: Array.from({ length: nodes }, (_, i) => i) });
  const agents: ConsulAgent[] = [];
  let removed = false;
  const remove = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    // Client agents first, so none is left retrying a server that is gone; the namespaces last.
    await Promise.all(agents.slice(1).map((a) => a.destroy().catch(() => {})));
    if (agents[0] !== undefined) await agents[0].destroy().catch(() => {});
    lab.remove();
  };
  try {
    progress(`lab: bridge ${lab.subnet}, ${nodes} namespaces (${lab.hosts.map((h) => h.ns).join(', ')})`);
    const server = await startConsulAgent({ name: 'chaos-server', address: lab.bridgeAddress });
    agents.push(server);
    const clients = await Promise.all(lab.hosts.map((h, i) => startConsulAgent({ name: `chaos-agent-n${i + 1}`, address: h.address, netns: h.ns, join: server.serfAddress })));
    agents.push(...clients);
    const places = lab.hosts.map((h, i): NodePlace => ({
      clientHost: h.side!.nsAddress,
      agent: clients[i]!,
      netns: h.ns,
      // Every address of its namespace: peers and its agent come by the bridge, clients by the side link.
      flags: ['--host', '0.0.0.0', '--advertise', h.address, '--consul', clients[i]!.url],
    }));
    return { kind: 'lab', server, gridBind: lab.bridgeAddress, places, cut: (i) => lab.cut(i), heal: (i) => lab.heal(i), remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
