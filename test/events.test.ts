/** Events on one node: numbered per publisher and topic, the numbers committed with the turns that published them. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type TroupeClient } from '../client/index.js';
import { EmbeddedGrid } from '../grid/embedded/embedded-grid.js';
import type { TroupeNode } from '../runtime/node.js';
import { decodeRecord } from '../runtime/record.js';
import type { VersionedRecord } from '../grid/index.js';
import { startNode } from './fixtures/node.js';

describe('event numbering', () => {
  let grid: EmbeddedGrid;
  let node: TroupeNode;
  let client: TroupeClient;

  before(async () => {
    grid = new EmbeddedGrid();
    await grid.start();
    node = await startNode([], { grid });
    client = await connect({ url: `ws://127.0.0.1:${node.port}/v1/ws` });
  });
  after(async () => {
    await client.close();
    await node.stop();
    await grid.close();
  });

  test('each publisher numbers its events per topic from 1, and the number is in its record', async () => {
    const got: { from?: string; seq?: number; missed: number; text: string }[] = [];
    await client.subscribe('room:numbered', (post, _t, info) => got.push({ ...info, text: (post as { text: string }).text }));
    for (const text of ['one', 'two', 'three']) await client.call('Room', 'numbered', 'post', ['ann', text]);
    for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, [
      { from: 'Room/numbered', seq: 1, missed: 0, text: 'one' },
      { from: 'Room/numbered', seq: 2, missed: 0, text: 'two' },
      { from: 'Room/numbered', seq: 3, missed: 0, text: 'three' },
    ]);
    const [rec] = grid.readRecordsNow([{ type: 'Room', key: 'numbered' }]) as (VersionedRecord | undefined)[];
    assert.deepEqual(decodeRecord(rec!.data).pubs, [['room:numbered', 3]]);
  });

  test('a turn that throws publishes nothing and uses no number', async () => {
    const got: number[] = [];
    await client.subscribe('room:fails', (_p, _t, info) => got.push(info.seq ?? -1));
    await client.call('Room', 'fails', 'post', ['ann', 'ok']);
    await assert.rejects(client.call('Room', 'fails', 'post', ['', 'refused']));
    await client.call('Room', 'fails', 'post', ['ann', 'ok again']);
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, [1, 2]);
  });
});
