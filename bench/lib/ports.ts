import { createServer } from 'node:net';

/** Ports that other services on a developer's machine commonly hold; never handed out. */
const RESERVED = new Set([5432, 3306, 6379, 5672, 1883, 4222]);

function probe(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A loopback port that was free a moment ago. There is a small window before
 * the caller binds it; ports handed out in one run are never repeated so two
 * processes started together cannot be given the same one.
 */
const given = new Set<number>();
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probe();
    if (port > 0 && !RESERVED.has(port) && !given.has(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error('could not find a free loopback port after 50 attempts');
}
