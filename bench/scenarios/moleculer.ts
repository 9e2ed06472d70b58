import { fileURLToPath } from 'node:url';
import { freePort } from '../lib/ports.js';
import { startServer } from '../lib/processes.js';
import type { Scenario } from '../scenario.js';

const SERVER = fileURLToPath(new URL('../servers/moleculer-broker.js', import.meta.url));
const SERVER_NODE_ID = 'bench-counter';
// One client node id for every load process of this scenario: the broker
// lists it as a static peer, and a new process with the same id rejoins.
const CLIENT_NODE_ID = 'bench-client';

/** Moleculer 0.14, two processes over its TCP transporter, static peers on loopback. */
export const moleculerTcp: Scenario = {
  name: 'moleculer-tcp',
  kind: 'peer',
  description: 'Moleculer 0.14: broker process with a counter service (in-memory add action), client broker process, TCP transporter on 127.0.0.1, JSON serializer',
  async start(ctx) {
    const [serverPort, clientPort] = [await freePort(), await freePort()];
    const server = await startServer({
      name: 'moleculer broker',
      command: process.execPath,
      args: [SERVER, SERVER_NODE_ID, String(serverPort), CLIENT_NODE_ID, String(clientPort)],
      timeoutMs: 20_000,
      ready: (line) => line.startsWith('{"ready":true'),
    });
    ctx.progress(`broker ${SERVER_NODE_ID} on 127.0.0.1:${serverPort} (pid ${server.pid}); client node ${CLIENT_NODE_ID} will use port ${clientPort}`);
    return {
      driver: {
        name: 'moleculer',
        server: { nodeID: SERVER_NODE_ID, port: serverPort },
        client: { nodeID: CLIENT_NODE_ID, port: clientPort },
      },
      pids: [server.pid],
      stop: () => server.stop(),
    };
  },
};
