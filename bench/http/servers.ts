/**
 * The HTTP references for `npm run bench:http`: the same Counter.add as
 * Troupe's `POST /v1/actors/Counter/:key/add` (body `[by]`, answer
 * `{"value":total}`), done in memory by a trivial server and nothing else.
 *
 *   node servers.js node-http|uws-http
 *
 * Prints one JSON line `{"ready":true,"port":P}` once listening on 127.0.0.1 (a free port).
 */
import { createServer } from 'node:http';
import uWS from 'uWebSockets.js';

const PATH = /^\/v1\/actors\/Counter\/([^/]+)\/add$/;
const totals = new Map<string, number>();

function add(key: string, body: string): string {
  const by = (JSON.parse(body) as number[])[0] ?? 0;
  const total = (totals.get(key) ?? 0) + by;
  totals.set(key, total);
  return `{"value":${total}}`;
}

function ready(port: number): void {
  console.log(JSON.stringify({ ready: true, port, pid: process.pid }));
}

const kind = process.argv[2];
if (kind === 'node-http') {
  const server = createServer((req, res) => {
    const m = req.method === 'POST' ? PATH.exec(req.url ?? '') : null;
    if (m === null) {
      res.writeHead(404).end();
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(add(decodeURIComponent(m[1]!), body));
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => ready((server.address() as { port: number }).port));
  process.on('SIGTERM', () => process.exit(0));
} else if (kind === 'uws-http') {
  const app = uWS.App();
  app.post('/v1/actors/Counter/:key/add', (res, req) => {
    const key = decodeURIComponent(req.getParameter(0) ?? '');
    let body = Buffer.alloc(0);
    res.onAborted(() => {});
    res.onData((chunk, last) => {
      body = Buffer.concat([body, Buffer.from(chunk)]);
      if (!last) return;
      const answer = add(key, body.toString('utf8'));
      res.cork(() => res.writeHeader('content-type', 'application/json').end(answer));
    });
  });
  app.listen('127.0.0.1', 0, (token) => {
    if (!token) process.exit(1);
    ready(uWS.us_socket_local_port(token as unknown as uWS.us_socket));
  });
  process.on('SIGTERM', () => process.exit(0));
} else {
  console.error('usage: servers.js node-http|uws-http');
  process.exit(2);
}
