import { startTroupeNode, troupeMissing } from '../lib/troupe-node.js';
import type { Scenario } from '../scenario.js';

/** One Troupe node with the Counter example, reached over WebSocket. */
export const troupe: Scenario = {
  name: 'troupe',
  kind: 'troupe',
  description: 'Troupe: one node (bin/troupe.js start, embedded grid) hosting the Counter example, Counter.add(1) over WebSocket',
  async start(ctx) {
    return troupeMissing(ctx) ?? startTroupeNode(ctx);
  },
};
