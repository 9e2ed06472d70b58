/**
 * Starting the Moleculer broker process of a row (servers/moleculer-broker.ts)
 * and describing the client broker the load process will run.
 */
import { fileURLToPath } from 'node:url';
import type { ScenarioContext, Target } from '../scenario.js';
import type { MoleculerSerializer } from './moleculer-serializer.js';
import { freePort } from '../../runtime/cli/free-port.js';
import { startServer } from './processes.js';

const SERVER = fileURLToPath(new URL('../servers/moleculer-broker.js', import.meta.url));

export interface MoleculerRowOptions {
  readonly serverNodeId: string;
  /**
   * One client node id for every load process of the row: the broker lists
   * it as a static peer, and a new process with the same id rejoins.
   */
  readonly clientNodeId: string;
  readonly serializer: MoleculerSerializer;
  /** Arguments after the ports: where the counter service keeps its totals (default in memory). */
  readonly storeArgs?: readonly string[];
  /** Other processes the row's server CPU includes (Hazelcast members). */
  readonly alsoPids?: readonly number[];
}

export async function startMoleculerRow(ctx: ScenarioContext, o: MoleculerRowOptions): Promise<Target> {
  const [serverPort, clientPort] = [await freePort(), await freePort()];
  const server = await startServer({
    name: 'moleculer broker',
    command: process.execPath,
    args: [SERVER, o.serverNodeId, String(serverPort), o.clientNodeId, String(clientPort), ...(o.storeArgs ?? [])],
    env: { ...process.env, BENCH_MOLECULER_SERIALIZER: o.serializer },
    timeoutMs: 30_000,
    ready: (line) => line.startsWith('{"ready":true'),
  });
  ctx.progress(`broker ${o.serverNodeId} on 127.0.0.1:${serverPort} (pid ${server.pid}); client node ${o.clientNodeId} will use port ${clientPort}`);
  return {
    driver: {
      name: 'moleculer',
      server: { nodeID: o.serverNodeId, port: serverPort },
      client: { nodeID: o.clientNodeId, port: clientPort },
      serializer: o.serializer,
    },
    pids: [server.pid, ...(o.alsoPids ?? [])],
    stop: () => server.stop(),
  };
}
