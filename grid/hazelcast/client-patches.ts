import { createRequire } from 'node:module';

/**
 * A fix for hazelcast-client 5.6 (current upstream as of 2026-12), applied to
 * its internal ClusterViewListenerService before the first client starts.
 *
 * The bug: when the connection carrying the cluster-view listener closes, the
 * client re-registers the listener at once on a random other connection, and
 * when that attempt fails, again at once. If every member dies together (a
 * restart of the whole grid), the registry still holds connections whose
 * writer has already failed but whose socket "close" event is still waiting
 * in the event loop. Each attempt then fails in a process.nextTick, the next
 * one starts from its rejection handler, and the loop never yields to I/O:
 * the close events that would empty the registry are never processed. The
 * node stops answering (health checks, links, clients) and allocates until it
 * dies: 4 GB in about 100 s, seen in test/durable-write-through.test.ts in
 * about one run of four, with a JS stack of
 * tryRegister > invokeUrgent > ... > tryRegisterToRandomConnection.
 *
 * The fix: each re-registration waits a macrotask (RETRY_MS), so pending I/O
 * runs first and dead connections leave the registry; the listener then
 * lands on a live connection, or on the next one that opens
 * (connectionAdded registers it there as before).
 */
const RETRY_MS = 20;
const PATCHED = Symbol.for('troupe.hazelcast.clusterViewRetryPatched');

interface ClusterViewListenerPrototype {
  tryRegisterToRandomConnection(this: unknown, oldConnection: unknown): void;
  [PATCHED]?: boolean;
}

export function patchHazelcastClient(): void {
  const require = createRequire(import.meta.url);
  const mod = require('hazelcast-client/lib/listener/ClusterViewListenerService.js') as {
    ClusterViewListenerService?: { prototype: ClusterViewListenerPrototype };
  };
  const proto = mod.ClusterViewListenerService?.prototype;
  if (proto === undefined || typeof proto.tryRegisterToRandomConnection !== 'function') {
    // A client version without this service (or with it renamed): nothing to fix here, and nothing to break.
    return;
  }
  if (proto[PATCHED] === true) return;
  const original = proto.tryRegisterToRandomConnection;
  proto.tryRegisterToRandomConnection = function (this: unknown, oldConnection: unknown): void {
    setTimeout(() => original.call(this, oldConnection), RETRY_MS).unref();
  };
  proto[PATCHED] = true;
}
