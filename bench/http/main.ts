/**
 * Troupe's HTTP API against trivial HTTP servers: `npm run bench:http`.
 *
 *   node dist/bench/http/main.js [--seconds 8] [--connections 50]
 *
 * wrk (bench/http/wrk-load.ts; when it is on PATH, else autocannon in this
 * process, which caps the figures; BENCH_HTTP_LOAD=autocannon forces it) drives `POST /v1/actors/Counter/<key>/add`
 * with body `[1]` over `--connections` keep-alive connections, keys
 * round-robin over 1000, against: a Troupe node (embedded grid: each call a
 * turn on a worker thread, committed before the answer), a trivial
 * `node:http` server and a trivial uWebSockets.js HTTP server doing the same
 * add in memory (bench/http/servers.ts). Prints requests/s, latency and the
 * ratios Troupe / each; one JSON line. Bounded by `--seconds` per row.
 *
 * BENCH_BASELINE=<a built checkout of an older commit> adds a row
 * `troupe@baseline` run from there, and `--rounds N` runs the two Troupe rows
 * N times, interleaved, each round's ratio printed (a hot-path change's
 * before and after in one run; the machine's speed drifts by the hour).
 */
import { fileURLToPath } from 'node:url';
import { readConfig } from '../config.js';
import { gitDescribe } from '../lib/git-commit.js';
import { keepResults } from '../lib/results-file.js';
import autocannon from 'autocannon';
import { startServer } from '../lib/processes.js';
import { startCounterNode } from '../lib/troupe-node.js';
import { wrkAvailable, wrkLoad } from './wrk-load.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SERVERS = fileURLToPath(new URL('./servers.js', import.meta.url));

function args(): { seconds: number; connections: number; rounds: number } {
  const out = { seconds: 8, connections: 50, rounds: 1 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!.replace(/^--/, '') as keyof typeof out;
    const v = Number(argv[i + 1]);
    if (!(name in out) || !Number.isInteger(v) || v < 1 || v > 600) throw new TypeError(`usage: [--seconds N] [--connections N] [--rounds N], got ${argv[i]} ${argv[i + 1]}`);
    out[name] = v;
  }
  return out;
}

interface Row { name: string; requestsPerSecond: number; p50Ms: number; p99Ms: number; errors: number; non2xx: number }

const LOAD: 'wrk' | 'autocannon' = process.env.BENCH_HTTP_LOAD === 'autocannon' || !wrkAvailable() ? 'autocannon' : 'wrk';

async function drive(name: string, port: number, o: { seconds: number; connections: number }): Promise<Row> {
  if (LOAD === 'wrk') return { name, ...(await wrkLoad(ROOT, port, o)) };
  let n = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: o.connections,
    duration: o.seconds,
    requests: [{
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[1]',
      setupRequest: (req) => ({ ...req, path: `/v1/actors/Counter/k${n++ % 1000}/add` }),
    }],
  });
  return { name, requestsPerSecond: Math.round(result.requests.average), p50Ms: result.latency.p50, p99Ms: result.latency.p99, errors: result.errors + result.timeouts, non2xx: result.non2xx };
}

async function trivial(kind: 'node-http' | 'uws-http', o: { seconds: number; connections: number }): Promise<Row> {
  let port = 0;
  const server = await startServer({
    name: kind,
    command: process.execPath,
    args: [SERVERS, kind],
    timeoutMs: 15_000,
    ready: (line) => {
      if (!line.startsWith('{"ready":true')) return false;
      port = (JSON.parse(line) as { port: number }).port;
      return true;
    },
  });
  try {
    return await drive(kind, port, o);
  } finally {
    await server.stop();
  }
}

async function troupeRow(name: string, root: string, o: { seconds: number; connections: number }): Promise<Row> {
  const node = await startCounterNode(root, []);
  try {
    return await drive(name, node.port, o);
  } finally {
    await node.stop();
  }
}

async function main(): Promise<void> {
  const o = args();
  // The same BENCH_BASELINE as `npm run bench` (bench/config.ts checks it).
  const base = readConfig(process.env).baselineRoot;
  const rows: Row[] = [];
  const rounds: Array<{ troupe: Row; baseline: Row }> = [];
  if (base === null) rows.push(await troupeRow('troupe', ROOT, o));
  else {
    for (let r = 1; r <= o.rounds; r++) {
      const troupe = await troupeRow('troupe', ROOT, o);
      const baseline = await troupeRow('troupe@baseline', base, o);
      rounds.push({ troupe, baseline });
      process.stderr.write(`round ${r}: troupe ${troupe.requestsPerSecond}, baseline ${baseline.requestsPerSecond}: ${(troupe.requestsPerSecond / baseline.requestsPerSecond).toFixed(2)}x\n`);
    }
    // The Troupe rows quoted are the median round's (by its ratio); every round is in the JSON.
    const sorted = [...rounds].sort((a, b) => a.troupe.requestsPerSecond / a.baseline.requestsPerSecond - b.troupe.requestsPerSecond / b.baseline.requestsPerSecond);
    const mid = sorted[Math.floor(sorted.length / 2)]!;
    rows.push(mid.troupe, mid.baseline);
  }
  rows.push(await trivial('node-http', o));
  rows.push(await trivial('uws-http', o));
  const troupe = rows[0]!;
  const lines = [`POST /v1/actors/Counter/<key>/add, ${o.connections} connections, ${o.seconds} s per row (${LOAD === 'wrk' ? 'wrk, its own process, 1 thread' : 'autocannon in this process: it may be the limit, install wrk'}):`, 'row        requests/s  p50 ms  p99 ms  errors  non-2xx'];
  for (const r of rows) lines.push(`${r.name.padEnd(10)} ${String(r.requestsPerSecond).padStart(10)}  ${String(r.p50Ms).padStart(6)}  ${String(r.p99Ms).padStart(6)}  ${String(r.errors).padStart(6)}  ${String(r.non2xx).padStart(7)}`);
  for (const r of rows.slice(1)) lines.push(`troupe / ${r.name}: ${(troupe.requestsPerSecond / r.requestsPerSecond).toFixed(2)}x`);
  const commit = gitDescribe(ROOT);
  const json = {
    event: 'http_bench', commit, at: new Date().toISOString(), node: process.version, load: LOAD, ...o, rows,
    ...(base === null ? {} : { baseline: gitDescribe(base), rounds }),
  };
  const kept = keepResults(ROOT, new Date(json.at), commit, '-http', `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`${lines.join('\n')}\n${JSON.stringify(json)}\nresults: ${kept}\n`);
}

await main();
process.exit(0);
