/**
 * Port layout of a local cluster: one block of 100 loopback ports, so a
 * cluster's ports are easy to read and a restarted node gets its own back.
 *
 *   base+0        Consul HTTP API and UI
 *   base+1        Consul serf LAN (TCP and UDP)
 *   base+3        Consul server RPC (base+2, serf WAN, is disabled)
 *   base+10..19   Hazelcast members
 *   base+20+2k    gateway of node k+1 (WebSocket and HTTP); base+21+2k its link port
 *
 * Without --base-port the block is searched below Linux's ephemeral range
 * (32768+), where the OS does not hand ports out to outgoing connections, so
 * a port free at `up` is likely still free when a node restarts.
 */
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';

export const HOST = '127.0.0.1';
export const BLOCK_SIZE = 100;
export const MAX_MEMBERS = 10;
/** Nodes whose ports fit in the block; `add` beyond this takes ports the OS picks. */
export const NODES_IN_BLOCK = 40;

export const CONSUL_OFFSETS = { http: 0, serfLan: 1, server: 3 } as const;
const MEMBER_OFFSET = 10;
const NODE_OFFSET = 20;

/** Ports of well-known services, and Consul's defaults: a local cluster never takes them. */
const RESERVED = [1883, 3306, 4222, 5432, 5672, 6379, 8300, 8301, 8302, 8500, 8600];

export function memberPort(base: number, index: number): number {
  return base + MEMBER_OFFSET + index;
}

/** Gateway and link port of node number `n` (1-based), or undefined past the block. */
export function nodePorts(base: number, n: number): { port: number; linkPort: number } | undefined {
  if (n < 1 || n > NODES_IN_BLOCK) return undefined;
  const port = base + NODE_OFFSET + 2 * (n - 1);
  return { port, linkPort: port + 1 };
}

export function checkBasePort(base: number): void {
  if (!Number.isInteger(base) || base < 1024 || base + BLOCK_SIZE - 1 > 65535) {
    throw new RangeError(`--base-port must be an integer between 1024 and ${65536 - BLOCK_SIZE} (the cluster uses ${BLOCK_SIZE} ports from it), got ${base}`);
  }
  const clash = RESERVED.find((p) => p >= base && p < base + BLOCK_SIZE);
  if (clash !== undefined) throw new RangeError(`--base-port ${base}: the block ${base}-${base + BLOCK_SIZE - 1} contains port ${clash}, kept for other services; choose another`);
}

export function tcpFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.unref();
    server.once('error', () => done(false));
    server.listen(port, HOST, () => server.close(() => done(true)));
  });
}

export function udpFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createSocket('udp4');
    socket.unref();
    socket.once('error', () => {
      socket.close();
      done(false);
    });
    socket.bind(port, HOST, () => socket.close(() => done(true)));
  });
}

/** True when something accepts a TCP connection there (a leftover agent, another service). */
export function portAnswers(port: number, timeoutMs = 300): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: HOST, port });
    const finish = (answers: boolean): void => {
      socket.destroy();
      done(answers);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** The first port of `ports` that is taken, or undefined when all are free. */
async function firstTaken(base: number, nodes: number, members: number): Promise<number | undefined> {
  const tcp = [base + CONSUL_OFFSETS.http, base + CONSUL_OFFSETS.serfLan, base + CONSUL_OFFSETS.server];
  for (let i = 0; i < members; i++) tcp.push(memberPort(base, i));
  for (let n = 1; n <= nodes; n++) {
    const p = nodePorts(base, n)!;
    tcp.push(p.port, p.linkPort);
  }
  for (const p of tcp) if (!(await tcpFree(p))) return p;
  if (!(await udpFree(base + CONSUL_OFFSETS.serfLan))) return base + CONSUL_OFFSETS.serfLan;
  return undefined;
}

/**
 * Checks a chosen base port, or finds one: at most 60 random blocks in
 * 20000-32699 are tried (bounded, and away from every well-known port).
 */
export async function chooseBlock(requested: number | undefined, nodes: number, members: number): Promise<number> {
  if (requested !== undefined) {
    checkBasePort(requested);
    const taken = await firstTaken(requested, nodes, members);
    if (taken !== undefined) throw new Error(`port ${taken} on ${HOST} is taken; choose another --base-port or stop what listens there`);
    return requested;
  }
  for (let attempt = 0; attempt < 60; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 127) * BLOCK_SIZE;
    if ((await firstTaken(base, nodes, members)) === undefined) return base;
  }
  throw new Error(`no free block of ${BLOCK_SIZE} loopback ports found in 20000-32699 after 60 tries; pass --base-port`);
}
