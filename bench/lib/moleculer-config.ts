/**
 * Moleculer broker options shared by the broker process and the client, so
 * both sides of the peer baseline are configured alike: TCP transporter,
 * static peer list on 127.0.0.1, no UDP discovery, no logger, metrics or
 * tracing. The serializer is the row's (moleculer-serializer.ts); everything else stays at Moleculer's defaults (round-robin
 * strategy), as a user would run it.
 */
import { Transporters, type BrokerOptions } from 'moleculer';
import type { MoleculerSerializer } from './moleculer-serializer.js';

export const COUNTER_SERVICE = 'counter';

/**
 * Moleculer dials a peer at the hostname the peer advertises (os.hostname()),
 * which need not resolve to loopback on every machine. Every bench node is on
 * 127.0.0.1, so pin the address and keep all traffic on loopback.
 * (The TCP listener itself binds all interfaces: Moleculer 0.14 has no host
 * option for it. Nothing connects to it except the bench nodes.)
 */
class LoopbackTcpTransporter extends Transporters.TCP {
  getNodeAddress(): string {
    return '127.0.0.1';
  }
}

export interface Peer {
  readonly nodeID: string;
  readonly port: number;
}

export function brokerOptions(self: Peer, peers: readonly Peer[], serializer: MoleculerSerializer): BrokerOptions {
  return {
    nodeID: self.nodeID,
    serializer,
    logger: false,
    metrics: false,
    tracing: false,
    transporter: new LoopbackTcpTransporter({
      udpDiscovery: false,
      port: self.port,
      urls: [self, ...peers].map((p) => `127.0.0.1:${p.port}/${p.nodeID}`),
    }),
  };
}
