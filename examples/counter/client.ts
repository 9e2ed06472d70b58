/**
 * Counter example client: `npx tsx examples/counter/client.ts [ws://127.0.0.1:7070/v1/ws]`
 * (or, after `npm run build`, `node dist/examples/counter/client.js`).
 */
import { connect } from '../../client/index.js';
import { Counter } from './counter.js';

const url = process.argv[2] ?? 'ws://127.0.0.1:7070/v1/ws';
const client = await connect({ url });
try {
  const counter = client.actor(Counter, 'example');
  console.log('add(5) →', await counter.add(5));
  console.log('add(2) →', await counter.add(2));
  console.log('get() →', await counter.get());
  // 1000 calls in one tick leave as one frame, and each key's calls run in order.
  const totals = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.actor(Counter, `bulk-${i % 10}`).add(1)));
  console.log('1000 adds over 10 counters, last totals:', totals.slice(-10));
} finally {
  await client.close();
}
