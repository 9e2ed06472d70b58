/**
 * Bank example client: `npx tsx examples/bank/client.ts [ws://127.0.0.1:7070/v1/ws]`.
 */
import { connect, type TroupeError } from '../../client/index.js';
import { Account } from './account.js';

const url = process.argv[2] ?? 'ws://127.0.0.1:7070/v1/ws';
const client = await connect({ url, autoIdem: true });
try {
  const alice = client.actor(Account, `alice-${Date.now()}`);
  console.log('deposit(100) →', await alice.deposit(100));
  console.log('withdraw(30) →', await alice.withdraw(30));
  try {
    await alice.withdraw(1000);
  } catch (err) {
    console.log('withdraw(1000) →', (err as TroupeError).code, (err as TroupeError).message);
  }
  // The same idempotency key twice: the deposit is applied once.
  const once = client.actor(Account, `bob-${Date.now()}`, { idem: 'salary-2026-11' });
  console.log('deposit(500) with idem →', await once.deposit(500));
  console.log('same call again →', await once.deposit(500));
  console.log('balance →', await alice.balance());
} finally {
  await client.close();
}
