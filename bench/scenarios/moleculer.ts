import { startMoleculerRow } from '../lib/moleculer-server.js';
import type { Scenario } from '../scenario.js';

/** Moleculer 0.14, two processes over its TCP transporter, static peers on loopback, with its default serializer. */
export const moleculerTcp: Scenario = {
  name: 'moleculer-tcp',
  kind: 'peer',
  description: 'Moleculer 0.14: broker process with a counter service (in-memory add action), client broker process, TCP transporter on 127.0.0.1, JSON serializer',
  start: (ctx) => startMoleculerRow(ctx, { serverNodeId: 'bench-counter', clientNodeId: 'bench-client', serializer: 'JSON' }),
};

/** The same with Moleculer's fastest binary serializer (CBOR via cbor-x), as a user tuning for speed would run it. */
export const moleculerTcpCbor: Scenario = {
  name: 'moleculer-tcp-cbor',
  kind: 'peer',
  description: 'Moleculer 0.14 as in moleculer-tcp, CBOR serializer (cbor-x)',
  start: (ctx) => startMoleculerRow(ctx, { serverNodeId: 'bench-counter-cbor', clientNodeId: 'bench-client-cbor', serializer: 'CBOR' }),
};
