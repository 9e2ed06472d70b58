/** The transport layer's public entry: the interface and the engine factory. */
import type { Transport, TransportOptions } from './transport.js';

export type { PeerAddress, PeerState, Transport, TransportOptions } from './transport.js';

export const TRANSPORT_ENGINES = ['tcp'] as const;
export type TransportEngineName = (typeof TRANSPORT_ENGINES)[number];

/** Builds the configured engine, loaded only when chosen. */
export async function createTransport(engine: TransportEngineName, options: TransportOptions): Promise<Transport> {
  switch (engine) {
    case 'tcp': {
      const { TcpTransport } = await import('./tcp/tcp-transport.js');
      return new TcpTransport(options);
    }
  }
}
