/**
 * Reads actor records straight from the members (a client of its own, not a
 * Troupe node), so a test sees what the grid holds now, not what a node may
 * still have cached from before a crash.
 */
import { Client } from 'hazelcast-client';
import { decodeRecord as decodeStored } from '../../grid/hazelcast/record-codec.js';
import { decodeRecord } from '../../runtime/record.js';

export interface RawRecord {
  readonly version: number;
  readonly state: unknown;
}

export async function readRaw(hz: { readonly clusterName: string; readonly addresses: readonly string[] }, type: string, keys: readonly string[]): Promise<Map<string, RawRecord | undefined>> {
  const client = await Client.newHazelcastClient({
    clusterName: hz.clusterName,
    network: { clusterMembers: [...hz.addresses] },
    connectionStrategy: { connectionRetry: { clusterConnectTimeoutMillis: 20_000 } },
    properties: { 'hazelcast.logging.level': 'OFF', 'hazelcast.client.invocation.timeout.millis': 30_000 },
  });
  try {
    const map = await client.getMap<string, Buffer>(`troupe.actor.${type}`);
    const out = new Map<string, RawRecord | undefined>(keys.map((k) => [k, undefined]));
    for (const [k, v] of await map.getAll([...keys])) {
      if (v == null) continue;
      const r = decodeStored(v);
      out.set(k, { version: r.version, state: decodeRecord(r.data).state });
    }
    return out;
  } finally {
    await client.shutdown();
  }
}
