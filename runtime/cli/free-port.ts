/**
 * The one picker of loopback ports for processes started later: a member, a
 * broker, a database, a node, a test's or a benchmark's server.
 *
 * Why not listen(0): the kernel gives such a port from its ephemeral range,
 * the same range outgoing connections take their source ports from. Between
 * the pick and the bind, an already running process (a node's grid or Kafka
 * client) can connect out from exactly that port, and the new process fails
 * with "port in use" (seen in a fresh-clone test run on Node 22). So ports are
 * drawn at random below the ephemeral range, checked with an exclusive
 * listen, and never handed out twice by one process (two servers started
 * together must not be given the same one). There is still a window before
 * the caller binds; only another process picking the same port in it can
 * take it, and the random draw over ~12,000 ports makes that rare.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const HOST = '127.0.0.1';
/** Under this the well-known services live (PostgreSQL 5432, Redis 6379, ...). */
const PICK_LOW = 20_000;
/** Fewer ports than this below the ephemeral range: draw from the OS instead. */
const MIN_SPAN = 1_000;
/** Ports other services on a developer's machine commonly hold; never handed out from listen(0). */
const RESERVED = new Set([5432, 3306, 6379, 5672, 1883, 4222, 8500, 9092]);

/** The low end of the kernel's ephemeral range (Linux's default 32768). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const PICK_HIGH = ephemeralLow() - 1;
const given = new Set<number>();

/** Binds `port` (0: any) exclusively and lets go; the port bound, or 0 when it was taken. */
function tryListen(port: number): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(0));
    server.listen({ host: HOST, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

/** A loopback port nobody listened on a moment ago, not handed out before by this process. */
export async function freePort(): Promise<number> {
  const fromOs = PICK_HIGH - PICK_LOW < MIN_SPAN;
  for (let attempt = 0; attempt < 200; attempt++) {
    const wanted = fromOs ? 0 : PICK_LOW + Math.floor(Math.random() * (PICK_HIGH - PICK_LOW + 1));
    if (given.has(wanted)) continue;
    const port = await tryListen(wanted);
    if (port === 0 || given.has(port) || RESERVED.has(port)) continue;
    given.add(port);
    return port;
  }
  throw new Error(fromOs
    ? 'no free loopback port from the OS after 200 attempts'
    : `no free loopback port between ${PICK_LOW} and ${PICK_HIGH} after 200 draws`);
}
