/**
 * The Moleculer side of the peer baseline: one broker process hosting a
 * `counter` service whose `add` action keeps its totals in memory, the same
 * work as Troupe's Counter actor.
 *
 * Usage: node moleculer-broker.js <nodeID> <port> <clientNodeID> <clientPort>
 * Prints one JSON line `{"ready":true,...}` once the broker has started.
 */
import { ServiceBroker, type Context } from 'moleculer';
import { brokerOptions, COUNTER_SERVICE } from '../lib/moleculer-config.js';

function portArg(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    console.error(`moleculer-broker: ${name} must be a port number, got ${value}`);
    process.exit(2);
  }
  return n;
}

const [nodeID = '', portText, clientNodeID = '', clientPortText] = process.argv.slice(2);
const port = portArg(portText, 'port');
const clientPort = portArg(clientPortText, 'clientPort');

const broker = new ServiceBroker(brokerOptions({ nodeID, port }, [{ nodeID: clientNodeID, port: clientPort }]));
const totals = new Map<string, number>();

broker.createService({
  name: COUNTER_SERVICE,
  actions: {
    add(ctx: Context<{ key: string; by: number }>): number {
      const total = (totals.get(ctx.params.key) ?? 0) + ctx.params.by;
      totals.set(ctx.params.key, total);
      return total;
    },
  },
});

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await broker.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());

await broker.start();
console.log(JSON.stringify({ ready: true, nodeID, port, pid: process.pid }));
