/** `troupe start`: a node in this process, on startNode (the embedding API), until SIGTERM or SIGINT. */
import { settingsFromFlags } from '../config.js';
import { settingsText } from '../settings/table.js';
import { startNode } from '../start-node.js';

export function startUsage(): string {
  return `usage: troupe start [options]

Runs a node: the gateway (WebSocket and HTTP), the turn pools, and the grid
(embedded, or a Hazelcast cluster). Flags win over environment variables,
which win over defaults; a bad value stops the node with one line.

examples:
  troupe start --actors dist/examples/counter/counter.js
  troupe start --port 7071 --actors my-app/greeter.ts
  TROUPE_GRID=hazelcast TROUPE_HAZELCAST_MEMBERS=127.0.0.1:5701 troupe start --actors dist/app.js
  TROUPE_CLUSTER_SECRET=... troupe start --discovery consul --actors dist/app.js

settings (flag, environment variable, default, allowed values):
${settingsText()}`;
}

export async function startCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${startUsage()}\n`);
    return 0;
  }
  const node = await startNode(settingsFromFlags(argv), { env: process.env });
  // One line for people; the JSON log lines are for machines.
  process.stderr.write(`troupe: node ${node.config.nodeId} ready: ${node.address.ws}, ${node.address.http} (Ctrl-C to stop)\n`);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    node.log.log('info', 'signal', { signal });
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        node.log.log('error', 'stop_failed', { error: (err as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  return new Promise<number>(() => {});
}
