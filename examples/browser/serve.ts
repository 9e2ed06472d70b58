/**
 * A tiny static server for the browser example, on 127.0.0.1 only: the page
 * at `/` and the SDK's browser build at `/troupe-client.js`. The page is on
 * this server's origin and the node on another, which is the case CORS is
 * about: start the node with `--allowed-origins http://127.0.0.1:<this port>`.
 *
 *   node dist/examples/browser/serve.js [port]      (0 or nothing: a free port)
 *
 * It prints `serving http://127.0.0.1:<port>/` once listening.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';

// From dist/examples/browser/: the page beside the sources, the bundle in dist/client/.
const PAGE = fileURLToPath(new URL('../../../examples/browser/index.html', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../client/browser.bundle.js', import.meta.url));

const ROUTES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: PAGE, type: 'text/html; charset=utf-8' },
  '/index.html': { file: PAGE, type: 'text/html; charset=utf-8' },
  '/troupe-client.js': { file: BUNDLE, type: 'text/javascript; charset=utf-8' },
};

/** Starts the server on 127.0.0.1:`port`; resolves with it and its port once listening. */
export function serveExample(port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const route = ROUTES[new URL(req.url ?? '/', 'http://localhost').pathname];
    if (req.method !== 'GET' || route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    readFile(route.file).then(
      (body) => res.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store' }).end(body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end(`cannot read ${route.file} (built? npm run build)`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address !== null ? address.port : port });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { port } = await serveExample(Number(process.argv[2] ?? 0));
  console.log(`serving http://127.0.0.1:${port}/`);
}
