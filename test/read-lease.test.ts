/**
 * The read lease: a node never answers from a cached record older than
 * `--read-lease`, so while two nodes both believe they own an actor (their
 * views of the cluster differ for a moment) a read is stale by at most the
 * lease. Two nodes on one embedded grid, each the sole owner in its own view.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedGrid } from '../grid/embedded/embedded-grid.js';
import type { TroupeNode } from '../runtime/node.js';
import { startNode } from './fixtures/node.js';
import { RawClient } from './fixtures/raw-client.js';

const LEASE_MS = 300;

describe('read lease', () => {
  let grid: EmbeddedGrid;
  let a: TroupeNode;
  let b: TroupeNode;
  let ca: RawClient;
  let cb: RawClient;

  before(async () => {
    grid = new EmbeddedGrid();
    await grid.start();
    a = await startNode(['--read-lease', String(LEASE_MS)], { grid });
    b = await startNode(['--read-lease', String(LEASE_MS)], { grid });
    ca = await RawClient.connect(a.port);
    cb = await RawClient.connect(b.port);
  });
  after(async () => {
    ca.close();
    cb.close();
    await a.stop();
    await b.stop();
    await grid.close();
  });

  test('a read after another node wrote the actor is current once the lease has passed', async () => {
    assert.equal((await ca.call('Counter', 'leased', 'add', [1])).value, 1);
    assert.equal((await ca.call('Counter', 'leased', 'get')).value, 1);
    // The other node writes the actor behind a's back (a's cached record is now stale).
    assert.equal((await cb.call('Counter', 'leased', 'add', [10])).value, 11);
    const writtenAt = Date.now();
    await new Promise((r) => setTimeout(r, LEASE_MS + 50));
    const read = (await ca.call('Counter', 'leased', 'get')).value;
    assert.equal(read, 11, `a answered ${String(read)} ${Date.now() - writtenAt} ms after the write (lease ${LEASE_MS} ms)`);
  });

  test('reads within the lease come from the cache: no grid read per read', async () => {
    assert.equal((await ca.call('Counter', 'cached', 'add', [1])).value, 1);
    const reads: Promise<unknown>[] = [];
    const before = grid.readsSoFar;
    for (let i = 0; i < 50; i++) reads.push(ca.call('Counter', 'cached', 'get'));
    await Promise.all(reads);
    assert.ok(grid.readsSoFar - before <= 1, `${grid.readsSoFar - before} grid reads for 50 reads within the lease`);
  });

  test('past the lease a write is not preceded by a read (its commit checks the version); a read is checked once', async () => {
    assert.equal((await ca.call('Counter', 'past-lease', 'add', [1])).value, 1);
    await new Promise((r) => setTimeout(r, LEASE_MS + 50));
    const beforeWrite = grid.readsSoFar;
    assert.equal((await ca.call('Counter', 'past-lease', 'add', [1])).value, 2);
    assert.equal(grid.readsSoFar - beforeWrite, 0, 'a write past the lease read the record first: two round trips where one does');
    await new Promise((r) => setTimeout(r, LEASE_MS + 50));
    const beforeRead = grid.readsSoFar;
    assert.equal((await ca.call('Counter', 'past-lease', 'get')).value, 2);
    assert.equal(grid.readsSoFar - beforeRead, 1, 'a read past the lease is checked against the grid once');
  });

  test('a write past the lease on a record changed elsewhere conflicts and runs again on the current one', async () => {
    assert.equal((await ca.call('Counter', 'moved-on', 'add', [1])).value, 1);
    assert.equal((await cb.call('Counter', 'moved-on', 'add', [10])).value, 11);
    await new Promise((r) => setTimeout(r, LEASE_MS + 50));
    assert.equal((await ca.call('Counter', 'moved-on', 'add', [1])).value, 12);
  });
});
