import { fileURLToPath } from 'node:url';
import { WS_PATH } from '../../protocol/index.js';
import { startServer } from '../lib/processes.js';
import type { Scenario } from '../scenario.js';

const SERVER = fileURLToPath(new URL('../servers/raw-uws.js', import.meta.url));

/** The ceiling: what one uWS thread does with the wire protocol and nothing else. */
export const rawUws: Scenario = {
  name: 'raw-uws',
  kind: 'peer',
  description: 'ceiling: single-threaded raw uWebSockets.js server, msgpack batch in, one in-memory total per key, batch out',
  async start(ctx) {
    let port = 0;
    const server = await startServer({
      name: 'raw-uws server',
      command: process.execPath,
      args: [SERVER, '0'],
      timeoutMs: 15_000,
      ready: (line) => {
        if (!line.startsWith('{"ready":true')) return false;
        port = (JSON.parse(line) as { port?: number }).port ?? 0;
        return port > 0;
      },
    });
    ctx.progress(`server listening on 127.0.0.1:${port} (pid ${server.pid})`);
    return {
      driver: { name: ctx.wsClient, url: `ws://127.0.0.1:${port}${WS_PATH}` },
      pids: [server.pid],
      stop: () => server.stop(),
    };
  },
};
