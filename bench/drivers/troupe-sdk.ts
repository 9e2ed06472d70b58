/**
 * The Troupe SDK as a bench driver. The SDK is loaded from dist/client at run
 * time rather than imported statically, so the bench compiles and its peer
 * rows run while the SDK is still being written.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Caller, TroupeSdkSpec } from './index.js';

/** The slice of the SDK the bench uses. */
interface TroupeClient {
  call(actor: string, key: string, method: string, args: readonly unknown[]): Promise<unknown>;
  close(): Promise<void>;
}
interface TroupeSdk {
  connect(opts: { url: string }): Promise<TroupeClient>;
}

/** dist/client/index.js, resolved from this compiled file (dist/bench/drivers/). */
export const SDK_URL = new URL('../../client/index.js', import.meta.url);

export function sdkAvailable(): boolean {
  return existsSync(fileURLToPath(SDK_URL));
}

export async function open(spec: TroupeSdkSpec): Promise<Caller> {
  const sdk = (await import(SDK_URL.href)) as Partial<TroupeSdk>;
  if (typeof sdk.connect !== 'function') throw new TypeError(`${fileURLToPath(SDK_URL)} does not export connect()`);
  const client = await sdk.connect({ url: spec.url });
  if (spec.workload === 'relay') {
    return {
      call: (key) => client.call('Relay', key, 'forward', [key, 1]),
      close: () => client.close(),
    };
  }
  const args = [1] as const;
  return {
    call: (key) => client.call('Counter', key, 'add', args),
    close: () => client.close(),
  };
}
