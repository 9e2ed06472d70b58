/**
 * The Moleculer side of the peer baselines: one broker process hosting a
 * `counter` service whose `add` action does the work of Troupe's Counter actor,
 * keeping its totals either in memory (moleculer-tcp) or in a Hazelcast IMap
 * (moleculer-hazelcast).
 *
 * Usage: node moleculer-broker.js <nodeID> <port> <clientNodeID> <clientPort>
 *          [hazelcast <clusterName> <member,member,...> <mapName>]
 * The serializer comes from BENCH_MOLECULER_SERIALIZER (JSON or CBOR; the
 * load process's broker uses the same).
 * Prints one JSON line `{"ready":true,...}` once the broker has started (and,
 * with hazelcast, its client has connected).
 */
import type { Client as HazelcastClient, IMap } from 'hazelcast-client';
import { ServiceBroker, type Context } from 'moleculer';
import { benchClientConfig, CasCounter } from '../lib/hazelcast-counter.js';
import { brokerOptions, COUNTER_SERVICE } from '../lib/moleculer-config.js';
import { isMoleculerSerializer } from '../lib/moleculer-serializer.js';

function portArg(value: string | undefined, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    console.error(`moleculer-broker: ${name} must be a port number, got ${value}`);
    process.exit(2);
  }
  return n;
}

const [nodeID = '', portText, clientNodeID = '', clientPortText, store = 'memory', clusterName = '', memberList = '', mapName = ''] = process.argv.slice(2);
const port = portArg(portText, 'port');
const clientPort = portArg(clientPortText, 'clientPort');
if (store !== 'memory' && (store !== 'hazelcast' || clusterName === '' || memberList === '' || mapName === '')) {
  console.error('moleculer-broker: the store is "memory" (default) or "hazelcast <clusterName> <members> <mapName>"');
  process.exit(2);
}

const serializer = process.env.BENCH_MOLECULER_SERIALIZER ?? 'JSON';
if (!isMoleculerSerializer(serializer)) {
  console.error(`moleculer-broker: BENCH_MOLECULER_SERIALIZER is JSON or CBOR, got ${serializer}`);
  process.exit(2);
}

type AddParams = { key: string; by: number };
let add: (ctx: Context<AddParams>) => number | Promise<number>;
/** Counts the load process reports with its row (moleculer driver); only the hazelcast store has any. */
let stats: (() => Record<string, number>) | undefined;
let hazelcast: HazelcastClient | null = null;

if (store === 'hazelcast') {
  // Loaded only for this store, so the in-memory row's broker stays as it was.
  const { Client } = await import('hazelcast-client');
  hazelcast = await Client.newHazelcastClient(benchClientConfig(clusterName, memberList.split(',')));
  const map: IMap<string, Buffer> = await hazelcast.getMap(mapName);
  // What a Moleculer user would write: add, and write it back only if nobody
  // changed the entry meanwhile (replaceIfSame), retry on conflict. Starting
  // from the bytes this broker last saw, the cache Troupe's engine keeps too,
  // so a call is one round trip, as it is for Troupe. No per-key queue (a
  // service may run on several brokers): calls on one key in flight together
  // conflict and retry.
  const counter = new CasCounter(map, { cacheLastSeen: true, oneAtATimePerKey: false });
  add = (ctx) => counter.add(ctx.params.key, ctx.params.by);
  stats = () => ({ conflicts: counter.conflicts });
} else {
  const totals = new Map<string, number>();
  add = (ctx) => {
    const total = (totals.get(ctx.params.key) ?? 0) + ctx.params.by;
    totals.set(ctx.params.key, total);
    return total;
  };
}

const broker = new ServiceBroker(brokerOptions({ nodeID, port }, [{ nodeID: clientNodeID, port: clientPort }], serializer));
broker.createService({ name: COUNTER_SERVICE, actions: stats === undefined ? { add } : { add, stats } });

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await broker.stop();
  await hazelcast?.shutdown();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());

await broker.start();
console.log(JSON.stringify({ ready: true, nodeID, port, pid: process.pid }));
