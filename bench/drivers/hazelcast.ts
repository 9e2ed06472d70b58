/**
 * Raw hazelcast-client as a bench driver: the load process itself is the
 * Hazelcast client, doing Counter.add(1) on an IMap with no server of ours in
 * between (lib/hazelcast-counter.ts holds the per-call work).
 */
import { Client, type IMap } from 'hazelcast-client';
import { benchClientConfig, BlindSetCounter, CasCounter } from '../lib/hazelcast-counter.js';
import type { Caller, HazelcastSpec } from './index.js';

export async function open(spec: HazelcastSpec): Promise<Caller> {
  const client = await Client.newHazelcastClient(benchClientConfig(spec.clusterName, spec.members));
  const map: IMap<string, Buffer> = await client.getMap(spec.map);
  if (spec.mode === 'set') {
    const counter = new BlindSetCounter(map);
    return {
      call: (key) => counter.add(key, 1),
      close: () => client.shutdown(),
    };
  }
  // The same per-call work as a Troupe node on the grid: calls on one key in
  // turn (the actor's mailbox), each one replaceIfSame from the bytes last
  // written (LastSeen), so no call pays for a conflict.
  const counter = new CasCounter(map, { cacheLastSeen: true, oneAtATimePerKey: true });
  return {
    call: (key) => counter.add(key, 1),
    stats: async () => ({ conflicts: counter.conflicts }),
    close: () => client.shutdown(),
  };
}
