import { COUNTER_ACTOR, RELAY_ACTOR, startTroupeNode, troupeMissing } from '../lib/troupe-node.js';
import type { Scenario } from '../scenario.js';

/**
 * One tell per call: `Relay.forward(key, 1)` on one node (embedded grid). Each
 * call is a Relay turn that commits its tell in its outbox, then the tell's
 * delivery, a Counter turn that applies it once (its key remembered), and the
 * acknowledgement's removal from the outbox (usually in the relay's next
 * turn): two grid writes and two turns per call where the `troupe` row has one.
 */
export const troupeRelay: Scenario = {
  name: 'troupe-relay',
  kind: 'troupe',
  group: 'outbox',
  description: 'Troupe: one node, Relay.forward(key, 1) over WebSocket: a relay turn whose tell (committed in its outbox) adds 1 to Counter key, exactly once',
  async start(ctx) {
    const missing = troupeMissing(ctx);
    if (missing !== null) return missing;
    if (ctx.wsClient !== 'troupe-sdk') return { skipped: 'needs the SDK (dist/client)' };
    return startTroupeNode(ctx, { actors: [COUNTER_ACTOR, RELAY_ACTOR], workload: 'relay' });
  },
};
