/**
 * Relay example client: `npx tsx examples/relay/client.ts [ws://127.0.0.1:7070/v1/ws]`
 * (or, after `npm run build`, `node dist/examples/relay/client.js`).
 */
import { connect } from '../../client/index.js';
import { Counter } from '../counter/counter.js';
import { Relay } from './relay.js';

const url = process.argv[2] ?? 'ws://127.0.0.1:7070/v1/ws';
const client = await connect({ url });
try {
  const key = `relayed-${Date.now().toString(36)}`;
  const relay = client.actor(Relay, 'example');
  console.log('forwardAwait(2) →', await relay.forwardAwait(key, 2));
  console.log('forward(5) →', await relay.forward(key, 5));
  // The tell is delivered after forward's turn committed: wait for it.
  let total = 0;
  for (let i = 0; i < 100 && total !== 7; i++) {
    total = await client.actor(Counter, key).get();
    if (total !== 7) await new Promise((r) => setTimeout(r, 20));
  }
  console.log('counter →', total);
} finally {
  await client.close();
}
