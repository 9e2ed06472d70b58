import { startTroupeNode, troupeMissing } from '../lib/troupe-node.js';
import type { Scenario } from '../scenario.js';

/** One Troupe node with the Counter example, reached over WebSocket. */
export const troupe: Scenario = {
  name: 'troupe',
  kind: 'troupe',
  description: 'Troupe: one node (bin/troupe.js start, embedded grid) hosting the Counter example, Counter.add(1) over WebSocket',
  // Issue 11's targets at 1000 in flight: 3x either Moleculer row, 0.4x the socket layer's ceiling.
  targets: { 'moleculer-tcp': 3, 'moleculer-tcp-cbor': 3, 'raw-uws': 0.4 },
  async start(ctx) {
    return troupeMissing(ctx) ?? startTroupeNode(ctx);
  },
};

/**
 * The same node reached by the bench's own minimal ws + msgpack client
 * (drivers/ws-batch.ts) instead of the SDK: what the wire protocol costs
 * without the SDK's proxies, timers and retries, beside the SDK row.
 */
export const troupeWs: Scenario = {
  name: 'troupe-ws',
  kind: 'troupe',
  description: 'troupe with the bench\'s own ws + msgpack client (drivers/ws-batch.ts) instead of the SDK',
  targets: { 'moleculer-tcp': 2.5, 'moleculer-tcp-cbor': 2.5 },
  async start(ctx) {
    return startTroupeNode(ctx, { client: 'ws-batch' });
  },
};

/**
 * Throughput by worker threads: the troupe row with 1 and 4 threads beside
 * its default (one per CPU, 2 here), so what the pool adds or costs is seen
 * apart from the main thread's share.
 */
export const troupeThreads = (threads: number): Scenario => ({
  name: `troupe-threads-${threads}`,
  kind: 'troupe',
  family: 'troupe-threads',
  description: `troupe with --threads ${threads} --min-threads ${threads}`,
  async start(ctx) {
    return troupeMissing(ctx) ?? startTroupeNode(ctx, { extraArgs: ['--threads', String(threads), '--min-threads', String(threads)] });
  },
});
