import { Client, LifecycleState } from 'hazelcast-client';
import { Errors, TroupeError } from '../../protocol/errors.js';
import { clientConfig } from './client-config.js';
import { patchHazelcastClient } from './client-patches.js';
import type { ResolvedOptions } from './options.js';

/**
 * Owns the hazelcast-client instance and keeps one connected for as long as
 * the grid is open.
 *
 * Why not simply `asyncStart` plus endless reconnects: in hazelcast-client
 * 5.6 an asyncStart client never opens connections to the other members (the
 * connect-to-all task is only scheduled on a synchronous start), so backup
 * acknowledgements from other members never reach it and every write waits
 * out the 5 s backup timeout. A synchronous start connects to all members,
 * but then one timeout (`clusterConnectTimeoutMillis`) bounds both the first
 * connection and each reconnection, after which the client shuts itself down.
 * So: the client reconnects by itself for up to `connectTimeoutMs`; past that
 * it shuts down and this class opens a fresh client, again and again, until
 * a member answers or the grid is closed.
 *
 * `connected` follows lifecycle events, so reading it costs nothing.
 */
export class ClientSupervisor {
  private client: Client | undefined;
  private connectedFlag = false;
  /** Events from an older client (one being replaced or shut down) are ignored by generation. */
  private generation = 0;
  private liveGeneration = -1;
  private closed = true;
  private reopening = false;
  private pause: NodeJS.Timeout | undefined;

  /**
   * @param onNewClient called after a replacement client took over, so callers drop proxies of the old one.
   * @param onReconnected called when the client is connected again after losing every member.
   *   hazelcast-client has no public event for "the cluster restarted" (its
   *   CHANGED_CLUSTER is for failover between configured clusters), and a
   *   reconnect after total loss may be exactly that, or the other half of a
   *   split brain: callers treat any reconnect as a possible reset.
   */
  constructor(
    private readonly options: ResolvedOptions,
    private readonly onNewClient: () => void,
    private readonly onReconnected: () => void = () => {},
  ) {}

  get current(): Client | undefined {
    return this.client;
  }

  /** Connected with a known member list. */
  get connected(): boolean {
    return this.connectedFlag && this.client !== undefined && this.client.getCluster().getMembers().length > 0;
  }

  get reconnecting(): boolean {
    return !this.closed && !this.connected;
  }

  /** Opens the first client; rejects with E_UNAVAILABLE when no member answers within connectTimeoutMs. */
  async start(): Promise<void> {
    this.closed = false;
    await this.open();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.connectedFlag = false;
    this.generation++;
    if (this.pause !== undefined) clearTimeout(this.pause);
    const client = this.client;
    this.client = undefined;
    await client?.shutdown().catch(() => {});
  }

  private async open(): Promise<void> {
    // Idempotent; before any client exists (see client-patches.ts).
    patchHazelcastClient();
    const gen = ++this.generation;
    let client: Client;
    try {
      client = await Client.newHazelcastClient(clientConfig(this.options, (state) => this.onState(gen, state)));
    } catch (err) {
      const o = this.options;
      const e = Errors.unavailable(`the Hazelcast grid (no member of cluster '${o.clusterName}' at ${o.members.join(', ')} answered within ${o.connectTimeoutMs} ms)`);
      throw new TroupeError(e.code, e.message, { cause: err });
    }
    if (this.closed || gen !== this.generation) {
      await client.shutdown().catch(() => {});
      throw Errors.unavailable('the Hazelcast grid (closed)');
    }
    this.client = client;
    this.liveGeneration = gen;
    this.connectedFlag = true;
  }

  private onState(gen: number, state: LifecycleState): void {
    if (gen !== this.generation) return;
    if (state === LifecycleState.CONNECTED) {
      const wasDisconnected = !this.connectedFlag;
      this.connectedFlag = true;
      if (wasDisconnected && gen === this.liveGeneration) this.onReconnected();
    } else if (state === LifecycleState.DISCONNECTED) {
      this.connectedFlag = false;
    } else if (state === LifecycleState.SHUTTING_DOWN || state === LifecycleState.SHUTDOWN) {
      this.connectedFlag = false;
      // Only a client that was up shut itself down because it gave up
      // reconnecting; one that failed to start is start()'s business.
      if (gen === this.liveGeneration && !this.closed) this.reopenInBackground();
    }
  }

  private reopenInBackground(): void {
    if (this.reopening) return;
    this.reopening = true;
    const attempt = async (): Promise<void> => {
      if (this.closed) {
        this.reopening = false;
        return;
      }
      try {
        await this.open();
        this.reopening = false;
        this.onNewClient();
      } catch {
        // Each attempt already waited up to connectTimeoutMs; pause briefly, then try again.
        this.pause = setTimeout(() => void attempt(), this.options.reconnectBackoffMaxMs);
        this.pause.unref();
      }
    };
    void attempt();
  }
}
