/**
 * Ingest example, check: reads every account's balance from a node and
 * compares it with what the producer wrote, waiting (bounded) while the
 * stream is still being applied.
 *
 *   node dist/examples/ingest/check.js [--url ws://127.0.0.1:7070/v1/ws] \
 *     [--expected expected.json] [--wait 120]
 *
 * Exit code 0 when every balance equals the sum produced for it (none lost,
 * none applied twice); 1 with the accounts that differ when `--wait` seconds
 * pass first.
 */
import { readFileSync } from 'node:fs';
import { connect } from '../../client/index.js';
import { Account } from '../bank/account.js';
import { checkArgs } from './args.js';

const args = checkArgs(process.argv.slice(2));
const expected = JSON.parse(readFileSync(args.expected, 'utf8')) as Record<string, number>;
const accounts = Object.keys(expected);
const client = await connect({ url: args.url, timeout: 10_000 });
const until = Date.now() + args.waitSeconds * 1000;
let wrong: { account: string; expected: number; balance: number }[] = [];
try {
  for (;;) {
    wrong = [];
    // A bounded number in flight at once: a check must not become a load test.
    for (let i = 0; i < accounts.length; i += 100) {
      const slice = accounts.slice(i, i + 100);
      const balances = await Promise.all(slice.map((a) => client.actor(Account, a).balance()));
      slice.forEach((account, k) => {
        if (balances[k] !== expected[account]) wrong.push({ account, expected: expected[account]!, balance: balances[k]! });
      });
    }
    // Below the sum: still being applied. Above it: applied twice, and waiting cannot fix that.
    if (wrong.length === 0 || wrong.some((w) => w.balance > w.expected) || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
} finally {
  await client.close();
}
const total = Object.values(expected).reduce((a, b) => a + b, 0);
if (wrong.length === 0) {
  console.log(JSON.stringify({ ok: true, accounts: accounts.length, total }));
} else {
  console.log(JSON.stringify({ ok: false, accounts: accounts.length, wrong: wrong.length, first: wrong.slice(0, 5) }));
  process.exitCode = 1;
}
