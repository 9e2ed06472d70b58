import { startMoleculerRow } from '../lib/moleculer-server.js';
import type { Scenario } from '../scenario.js';

/** Moleculer 0.14, two processes over its TCP transporter, static peers on loopback. */
export const moleculerTcp: Scenario = {
  name: 'moleculer-tcp',
  kind: 'peer',
  description: 'Moleculer 0.14: broker process with a counter service (in-memory add action), client broker process, TCP transporter on 127.0.0.1, JSON serializer',
  start: (ctx) => startMoleculerRow(ctx, { serverNodeId: 'bench-counter', clientNodeId: 'bench-client' }),
};
