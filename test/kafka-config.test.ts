/**
 * The broker's generated settings. A cluster id starting with '-' made the
 * storage tool fail ("argument --cluster-id/-t: expected one argument"): one
 * broker start in 64, seen once as a failed test run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newClusterId } from '../runtime/cli/kafka/broker-config.js';

test('a cluster id never starts with a dash, and is the 22 characters of 16 bytes in base64url', () => {
  // 10,000 draws: ids starting with '-' came about 156 times in that many before the fix.
  for (let i = 0; i < 10_000; i++) {
    const id = newClusterId();
    assert.match(id, /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  }
});
