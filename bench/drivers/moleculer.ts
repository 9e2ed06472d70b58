/**
 * Moleculer 0.14 as a bench driver: a broker with no services of its own,
 * calling `counter.add` on the broker process over the TCP transporter.
 */
import { ServiceBroker } from 'moleculer';
import { brokerOptions, COUNTER_SERVICE } from '../lib/moleculer-config.js';
import type { Caller, MoleculerSpec } from './index.js';

const DISCOVERY_TIMEOUT_MS = 20_000;

export async function open(spec: MoleculerSpec): Promise<Caller> {
  const broker = new ServiceBroker(brokerOptions(spec.client, [spec.server]));
  await broker.start();
  await broker.waitForServices(COUNTER_SERVICE, DISCOVERY_TIMEOUT_MS);
  return {
    call: (key) => broker.call(`${COUNTER_SERVICE}.add`, { key, by: 1 }),
    close: () => broker.stop(),
  };
}
