/**
 * Node-to-node links: the runtime talks to this interface only; engines
 * (`tcp`, …) implement it side by side and configuration picks one.
 *
 * The transport moves opaque, msgpack-serializable messages between
 * authenticated peers. It batches what is sent to one peer in one tick into
 * one frame, reconnects with backoff, and guards each peer with a circuit
 * breaker. What the messages mean (calls, results, events) is the cluster
 * layer's business (`runtime/cluster/link-protocol.ts`).
 */

/** Where a peer's link listens. */
export interface PeerAddress {
  readonly id: string;
  readonly address: string;
  readonly linkPort: number;
}

export type PeerState = 'up' | 'connecting' | 'down';

export interface TransportOptions {
  /** This node's id, proven to peers in the handshake. */
  readonly nodeId: string;
  /** Shared secret; null only in explicitly insecure mode (no authentication). */
  readonly secret: string | null;
  /** Largest frame accepted from a peer, bytes; a larger one closes that link. */
  readonly maxFrame: number;
  readonly log: (level: 'debug' | 'info' | 'warn' | 'error', event: string, fields?: Record<string, unknown>) => void;
}

export interface Transport {
  readonly engine: string;
  /** Starts accepting peers on host:port (0: a free port); resolves with the bound port. */
  listen(host: string, port: number): Promise<number>;
  /**
   * Queues a message for a peer, connecting if needed. Messages to one peer
   * arrive in the order sent while the link stays up. Returns false when the
   * message cannot be sent now (the peer's breaker is open, or its queue is
   * full): the caller decides what to do with it (re-route, fail).
   */
  send(peer: PeerAddress, message: unknown): boolean;
  /**
   * Queues a message on the peer's open link only: never dials, needs no
   * address. For answers to a peer that reached us while this node's view
   * does not list it (views converge at different times: after a Consul
   * agent restart one side can list the other before the other lists it).
   * False when no link to that peer is open.
   */
  sendOnLink(peerId: string, message: unknown): boolean;
  /** Every message from an authenticated peer, with the peer's proven id. */
  onMessage(handler: (from: string, message: unknown) => void): void;
  /** A link that was up went down: messages sent to it that were not answered may be lost. */
  onPeerDown(handler: (peerId: string) => void): void;
  /** A link came up (first time or after a reconnect). */
  onPeerUp(handler: (peerId: string) => void): void;
  peerState(peerId: string): PeerState;
  /** Drops a peer that left the cluster: closes its link, stops reconnecting. */
  forget(peerId: string): void;
  close(): Promise<void>;
}
