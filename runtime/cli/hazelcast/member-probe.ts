import { Client } from 'hazelcast-client';

/**
 * Connects a throw-away client and returns how many members it sees. This is
 * the readiness check that matters: the members accept clients, not merely
 * print "STARTED". Rejects when no member answers within `timeoutMs`.
 */
export async function probeCluster(clusterName: string, addresses: readonly string[], timeoutMs: number): Promise<number> {
  const client = await Client.newHazelcastClient({
    clusterName,
    network: { clusterMembers: [...addresses], connectionTimeout: Math.min(timeoutMs, 5_000) },
    connectionStrategy: {
      connectionRetry: { clusterConnectTimeoutMillis: timeoutMs, initialBackoffMillis: 100, maxBackoffMillis: 500 },
    },
    properties: { 'hazelcast.logging.level': 'OFF', 'hazelcast.client.statistics.enabled': false },
  });
  try {
    return client.getCluster().getMembers().length;
  } finally {
    await client.shutdown();
  }
}
