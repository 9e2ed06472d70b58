/**
 * Issue #9 (c): a record removed by hand from both the IMap and PostgreSQL
 * gives E_DATA_LOST, never a fresh actor, until an operator forgets it.
 */
import assert from 'node:assert/strict';
import { Client } from 'hazelcast-client';
import type { TroupeClient } from '../../client/index.js';
import { forgetLost } from '../../runtime/cli/hazelcast/forget.js';
import { errorCode } from '../chaos/calls.js';
import type { ChaosCluster } from '../chaos/cluster.js';

/** (c): a record removed by hand from both the IMap and PostgreSQL. */
export async function lostRecordIsReported(ctx: { cluster: ChaosCluster; clients: readonly TroupeClient[]; psql: (sql: string) => Promise<string> }): Promise<void> {
  const client = ctx.clients[ctx.clients.length - 1]!;
  const key = `lost-${Date.now().toString(36)}`;
  for (let i = 1; i <= 3; i++) assert.equal(await client.call('Counter', key, 'add', [1]), i);
  const hz = ctx.cluster.grid;
  const raw = await Client.newHazelcastClient({ clusterName: hz.clusterName, network: { clusterMembers: [...hz.addresses] }, properties: { 'hazelcast.logging.level': 'OFF' } });
  try {
    // By hand: the row from PostgreSQL, the entry from the IMap's memory (evict does not touch the store).
    assert.equal(await ctx.psql(`DELETE FROM troupe_records WHERE map = 'troupe.actor.Counter' AND key = '${key}' RETURNING version`), '3');
    await (await raw.getMap('troupe.actor.Counter')).evict(key);
  } finally {
    await raw.shutdown();
  }
  // The node answers from its memory until it drops the idle actor (--idle 2000, swept every
  // second), and every call keeps it active: leave it alone for 3.5 s, then ask (bounded).
  let code = 'none';
  for (let i = 0; i < 3 && code !== 'E_DATA_LOST'; i++) {
    await new Promise((r) => setTimeout(r, 3_500));
    code = await client.call('Counter', key, 'get', []).then(() => 'answered', errorCode);
  }
  assert.equal(code, 'E_DATA_LOST', 'a read of the lost counter fails with E_DATA_LOST');
  assert.equal(await client.call('Counter', key, 'add', [1]).then(() => 'answered', errorCode), 'E_DATA_LOST', 'and so does a write: it is not recreated at 0');
  assert.equal(await ctx.psql(`SELECT count(*) FROM troupe_records WHERE map = 'troupe.actor.Counter' AND key = '${key}'`), '0');
  // The operator gives up on it: its next call starts it afresh.
  const r = await forgetLost(hz.clusterName, hz.addresses, 'Counter', [key]);
  assert.deepEqual(r.forgotten, [key]);
  assert.equal(await ctx.psql(`SELECT count(*) FROM troupe_entries WHERE map = 'troupe.exists.Counter' AND key = '${key}'`), '0');
  assert.equal(await client.call('Counter', key, 'add', [1]), 1);
}
