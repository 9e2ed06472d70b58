/**
 * Transport over the `ws` package (Node). Loaded only through a dynamic import
 * so that nothing Node-specific sits on the SDK's static import graph.
 */
import type { OpenSocket, Socket } from './transport.js';

export async function wsTransport(): Promise<OpenSocket> {
  const { default: WS } = await import('ws');
  return (url, token, events): Socket => {
    const ws = new WS(url, {
      headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
      // Compression costs CPU on both ends for small, already compact msgpack frames.
      perMessageDeflate: false,
    });
    let unauthorized = false;
    let error: unknown;
    ws.on('open', () => events.open());
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      events.frame(isBinary ? data : data.toString('utf8'));
    });
    // With a listener here ws leaves the failed upgrade to us: note the status and abort,
    // which makes ws emit 'error' then 'close'.
    ws.on('unexpected-response', (_req, res) => {
      unauthorized = res.statusCode === 401 || res.statusCode === 403;
      error = new Error(`unexpected server response: ${res.statusCode}`);
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => {
      error ??= err;
    });
    ws.on('close', (code, reason) => {
      events.close({ code, reason: reason.toString('utf8'), unauthorized, error });
    });
    return {
      send: (frame) => ws.send(frame),
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      close: () => ws.close(1000),
    };
  };
}
