/**
 * The node both processes of `link-bench.ts` run: transports for one setup,
 * an echo server, a one-way sink that acks once per frame, and an rr client.
 * Benchmark code only, kept apart from the library it measures.
 */
import { createInterface } from 'node:readline';
import type { PeerAddress, Transport } from '../../runtime/transport/index.js';
// The engine itself, not the factory: the bench sets tcp-only options (batching) per setup.
import { TcpTransport } from '../../runtime/transport/tcp/tcp-transport.js';

export type Setup = 'shared' | 'per-direction' | 'unbatched';
export const SETUPS: readonly Setup[] = ['shared', 'per-direction', 'unbatched'];
const SECRET = 'link-bench-secret-0123456789';
export const HOST = '127.0.0.1';
/** Makes {k, i, g, p} encode to ~100 B. */
export const PAD = 'x'.repeat(72);
const quiet = () => {};

export interface Side {
  /** Sends to the other node. */
  readonly out: Transport;
  /** Receives from the other node. */
  readonly inn: Transport;
  readonly listenPort: number;
  close(): Promise<void>;
}

/** `per-direction`: two transports, one only dials and sends, one only listens and receives. */
export async function makeSide(name: string, setup: Setup): Promise<Side> {
  const make = (id: string) => new TcpTransport({ nodeId: id, secret: SECRET, maxFrame: 16 << 20, log: quiet, batching: setup !== 'unbatched' });
  if (setup === 'per-direction') {
    const out = make(`${name}-out`);
    const inn = make(`${name}-in`);
    const listenPort = await inn.listen(HOST, 0);
    return { out, inn, listenPort, close: async () => void (await Promise.all([out.close(), inn.close()])) };
  }
  const t = make(name);
  const listenPort = await t.listen(HOST, 0);
  return { out: t, inn: t, listenPort, close: () => t.close() };
}

/** Where to send to reach `name` (its receiving transport). */
export function target(name: string, setup: Setup, port: number): PeerAddress {
  return { id: setup === 'per-direction' ? `${name}-in` : name, address: HOST, linkPort: port };
}

interface Msg {
  readonly k: 'req' | 'res' | 'one' | 'ack';
  readonly i: number;
  /** Client generation: answers to a stopped client's requests must not feed the next one. */
  readonly g?: number;
  readonly p?: string;
}

export class BenchNode {
  /** Cumulative count of one-way messages the other node acknowledged. */
  acked = 0;
  rtDone = 0;
  onAck: (() => void) | undefined;
  private oneWay = 0;
  private ackQueued = false;
  private generation = 0;
  private client: { w: number; g: number; sentAt: Float64Array; samples: number[] } | undefined;

  constructor(
    private readonly side: Side,
    private readonly peer: PeerAddress,
  ) {
    side.inn.onMessage((_from, message) => this.on(message as Msg));
  }

  send(message: Msg): boolean {
    return this.side.out.send(this.peer, message);
  }

  /** Starts an rr client with `w` requests in flight. */
  startClient(w: number): void {
    const c = (this.client = { w, g: ++this.generation, sentAt: new Float64Array(w), samples: [] as number[] });
    this.rtDone = 0;
    for (let i = 0; i < w; i++) {
      c.sentAt[i] = performance.now();
      this.send({ k: 'req', i, g: c.g, p: PAD });
    }
  }

  /** Stops issuing requests (answers still in flight are ignored); returns latency samples, ms. */
  stopClient(): number[] {
    const samples = this.client?.samples ?? [];
    this.client = undefined;
    return samples;
  }

  private on(m: Msg): void {
    switch (m.k) {
      case 'req':
        this.send({ k: 'res', i: m.i, g: m.g, p: m.p });
        return;
      case 'one':
        this.oneWay++;
        if (!this.ackQueued) {
          this.ackQueued = true;
          // Runs after the rest of the frame is delivered: one cumulative ack per frame read.
          queueMicrotask(() => {
            this.ackQueued = false;
            this.send({ k: 'ack', i: this.oneWay });
          });
        }
        return;
      case 'ack':
        this.acked = m.i;
        this.onAck?.();
        return;
      case 'res': {
        const c = this.client;
        if (c === undefined || m.g !== c.g) return;
        this.rtDone++;
        const slot = m.i % c.w;
        if (c.samples.length < 1_000_000) c.samples.push(performance.now() - c.sentAt[slot]!);
        c.sentAt[slot] = performance.now();
        this.send({ k: 'req', i: m.i + c.w, g: c.g, p: PAD });
        return;
      }
    }
  }
}

/** Node B: serves until told to exit on stdin; runs an rr client of its own on request (sym-rr). */
export async function runChild(setup: Setup, aPort: number): Promise<void> {
  const side = await makeSide('B', setup);
  const node = new BenchNode(side, target('A', setup, aPort));
  const say = (event: string, fields: Record<string, unknown> = {}) => process.stdout.write(JSON.stringify({ event, ...fields }) + '\n');
  const rl = createInterface({ input: process.stdin });
  say('ready', { port: side.listenPort });
  for await (const line of rl) {
    const cmd = JSON.parse(line) as { cmd: 'client-start' | 'client-stop' | 'count' | 'exit'; w?: number };
    if (cmd.cmd === 'client-start') {
      node.startClient(cmd.w!);
      say('client-started');
    } else if (cmd.cmd === 'count') say('count', { rt: node.rtDone });
    else if (cmd.cmd === 'client-stop') {
      node.stopClient();
      say('client-stopped');
    } else break;
  }
  rl.close();
  await side.close();
}
