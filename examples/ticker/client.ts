/**
 * Ticker example client: `npx tsx examples/ticker/client.ts [ws://127.0.0.1:7070/v1/ws]`
 * (or, after `npm run build`, `node dist/examples/ticker/client.js`).
 */
import { connect } from '../../client/index.js';
import { Ticker } from './ticker.js';

const url = process.argv[2] ?? 'ws://127.0.0.1:7070/v1/ws';
const client = await connect({ url });
try {
  const ticker = client.actor(Ticker, `example-${Date.now().toString(36)}`);
  await ticker.schedule('once', 200);
  await ticker.repeat('thrice', 100, 3);
  await ticker.schedule('never', 300);
  console.log('cancel(never) →', await ticker.cancel('never'));
  console.log('pending →', await ticker.pending());
  await new Promise((r) => setTimeout(r, 800));
  console.log('fired →', await ticker.fired());
  console.log('pending →', await ticker.pending());
} finally {
  await client.close();
}
