/**
 * The ceiling reference: a trivial single-threaded uWebSockets.js server
 * speaking wire protocol v1 for Counter.add only. It decodes a frame (one
 * call or a batch), adds to an in-memory total per key, and replies with one
 * frame of results in the same shape. No validation, no actors, no grid:
 * what is left is the cost of the socket, the codec and the event loop.
 *
 * Usage: node raw-uws.js <port>   (0 picks a free port)
 * Prints one JSON line `{"ready":true,"port":P}` once listening on 127.0.0.1.
 */
import uWS from 'uWebSockets.js';
import { Packr, Unpackr } from 'msgpackr';
import { WS_PATH } from '../../protocol/index.js';

interface Call {
  readonly op: string;
  readonly id: number | string;
  readonly key: string;
  readonly args: readonly unknown[];
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });
const totals = new Map<string, number>();

function answer(m: Call): unknown {
  if (m.op !== 'call') return { op: 'error', id: m.id ?? null, code: 'E_BAD_REQUEST', message: 'raw-uws answers calls only' };
  const by = typeof m.args[0] === 'number' ? m.args[0] : 0;
  const value = (totals.get(m.key) ?? 0) + by;
  totals.set(m.key, value);
  return { op: 'result', id: m.id, value };
}

const requested = Number(process.argv[2] ?? '0');
const app = uWS.App();

app.ws(WS_PATH, {
  compression: uWS.DISABLED,
  maxPayloadLength: 16 * 1024 * 1024,
  maxBackpressure: 64 * 1024 * 1024,
  idleTimeout: 0,
  message(ws, message, isBinary) {
    // `message` is only valid during this callback; decoding copies what it keeps.
    const bytes = Buffer.from(message);
    const decoded = (isBinary ? unpackr.unpack(bytes) : JSON.parse(bytes.toString('utf8'))) as Call | Call[];
    const reply = Array.isArray(decoded) ? decoded.map(answer) : answer(decoded);
    ws.send(isBinary ? packr.pack(reply) : JSON.stringify(reply), isBinary);
  },
});
app.get('/health/ready', (res) => { res.end('ready'); });

let listenSocket: uWS.us_listen_socket | null = null;
app.listen('127.0.0.1', requested, (token) => {
  if (!token) {
    console.error(`raw-uws: could not listen on 127.0.0.1:${requested}`);
    process.exit(1);
  }
  listenSocket = token;
  const port = uWS.us_socket_local_port(token as unknown as uWS.us_socket);
  console.log(JSON.stringify({ ready: true, port, pid: process.pid }));
});

function stop(): void {
  if (listenSocket) uWS.us_listen_socket_close(listenSocket);
  listenSocket = null;
  // Open client sockets would keep the loop alive; the bench is done with them.
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
