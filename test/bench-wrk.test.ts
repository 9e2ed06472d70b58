import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWrk } from '../bench/http/wrk-load.js';

// wrk 4.1's report, as printed on this machine (1 s against the trivial uWS server).
const SAMPLE = `Running 1s test @ http://127.0.0.1:41277
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   161.21us  327.48us   4.37ms   94.72%
    Req/Sec    87.09k    24.63k  117.22k    63.64%
  Latency Distribution
     50%   83.00us
     75%  120.00us
     90%  196.00us
     99%    1.94ms
  95109 requests in 1.10s, 12.42MB read
Requests/sec:  86526.13
Transfer/sec:     11.30MB
`;

test('bench:http reads wrk: rate, median and p99 in ms, no errors', () => {
  assert.deepEqual(parseWrk(SAMPLE), { requestsPerSecond: 86526, p50Ms: 0.083, p99Ms: 1.94, errors: 0, non2xx: 0 });
});

test('bench:http counts wrk socket errors and non-2xx answers against the row', () => {
  const bad = SAMPLE.replace('Requests/sec', '  Socket errors: connect 0, read 3, write 1, timeout 2\n  Non-2xx or 3xx responses: 7\nRequests/sec');
  const r = parseWrk(bad);
  assert.equal(r.errors, 6);
  assert.equal(r.non2xx, 7);
});

test('bench:http refuses a wrk report without a rate instead of scoring 0', () => {
  assert.throws(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused\n'), /no rate or latency/);
});
