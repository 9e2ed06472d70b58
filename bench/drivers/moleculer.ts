/**
 * Moleculer 0.14 as a bench driver: a broker with no services of its own,
 * calling `counter.add` on the broker process over the TCP transporter.
 */
import { ServiceBroker } from 'moleculer';
import { brokerOptions, COUNTER_SERVICE } from '../lib/moleculer-config.js';
import type { Caller, MoleculerSpec } from './index.js';

const DISCOVERY_TIMEOUT_MS = 20_000;

export async function open(spec: MoleculerSpec): Promise<Caller> {
  const broker = new ServiceBroker(brokerOptions(spec.client, [spec.server], spec.serializer));
  await broker.start();
  await broker.waitForServices(COUNTER_SERVICE, DISCOVERY_TIMEOUT_MS);
  // The broker counts since it started (it serves every level of the row);
  // this process reports what happened during its own run.
  const before = await serverStats(broker);
  return {
    call: (key) => broker.call(`${COUNTER_SERVICE}.add`, { key, by: 1 }),
    async stats() {
      const after = await serverStats(broker);
      if (before === undefined || after === undefined) return undefined;
      return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
    },
    close: () => broker.stop(),
  };
}

/** `counter.stats`, which only the Hazelcast-backed service has (the in-memory one answers "not found"). */
async function serverStats(broker: ServiceBroker): Promise<Record<string, number> | undefined> {
  try {
    return (await broker.call(`${COUNTER_SERVICE}.stats`)) as Record<string, number>;
  } catch {
    return undefined;
  }
}
