/**
 * `troupe hazelcast forget-lost <Type> <key>...`: what an operator runs after
 * E_DATA_LOST, having decided the record cannot be restored (from a database
 * backup, see README "E_DATA_LOST"): removes the actor's existence marker,
 * so its next call starts it from its initial state. The marker is deleted
 * through the grid, which deletes it from the store too (MapStore.delete).
 *
 * Refuses for an actor whose record is still there: that actor is not lost.
 */
import { Client } from 'hazelcast-client';

export interface ForgetResult {
  readonly forgotten: readonly string[];
  /** Keys whose record exists: nothing was lost, nothing changed. */
  readonly notLost: readonly string[];
  /** Keys without a marker: nothing to forget. */
  readonly unknown: readonly string[];
}

export async function forgetLost(clusterName: string, members: readonly string[], type: string, keys: readonly string[], timeoutMs = 10_000): Promise<ForgetResult> {
  const client = await Client.newHazelcastClient({
    clusterName,
    network: { clusterMembers: [...members] },
    connectionStrategy: { connectionRetry: { clusterConnectTimeoutMillis: timeoutMs } },
    properties: { 'hazelcast.logging.level': 'OFF', 'hazelcast.client.invocation.timeout.millis': timeoutMs },
  });
  try {
    // The names of grid/hazelcast/names.ts (actorMapName, markerMapName).
    const records = await client.getMap<string, Buffer>(`troupe.actor.${type}`);
    const markers = await client.getMap<string, Buffer>(`troupe.exists.${type}`);
    const forgotten: string[] = [];
    const notLost: string[] = [];
    const unknown: string[] = [];
    for (const key of keys) {
      if ((await records.get(key)) != null) notLost.push(key);
      else if ((await markers.get(key)) == null) unknown.push(key);
      else {
        await markers.delete(key);
        forgotten.push(key);
      }
    }
    return { forgotten, notLost, unknown };
  } finally {
    await client.shutdown();
  }
}
