/**
 * Transport over a standard (WHATWG) WebSocket: browsers, Deno, Node 22+.
 * Such sockets cannot send headers, so the token travels as `?token=`, and a
 * refused upgrade looks like any other failure (code 1006).
 */
import type { OpenSocket, Socket } from './transport.js';

export function withToken(url: string, token: string | undefined): string {
  if (token === undefined) return url;
  const u = new URL(url);
  u.searchParams.set('token', token);
  return u.toString();
}

export function browserTransport(WS: typeof globalThis.WebSocket): OpenSocket {
  return (url, token, events): Socket => {
    const ws = new WS(withToken(url, token));
    ws.binaryType = 'arraybuffer';
    let closed = false;
    ws.onopen = () => events.open();
    ws.onmessage = (ev: MessageEvent) => {
      const data: unknown = ev.data;
      events.frame(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer));
    };
    // An error event is always followed by a close event, which carries what we need.
    ws.onerror = () => {};
    ws.onclose = (ev: CloseEvent) => {
      if (closed) return;
      closed = true;
      events.close({ code: ev.code, reason: ev.reason, unauthorized: false });
    };
    return {
      // Our frames are never views of a SharedArrayBuffer, which is what the DOM type rules out.
      send: (frame) => ws.send(frame as Uint8Array<ArrayBuffer>),
      get bufferedAmount() {
        return ws.bufferedAmount;
      },
      close: () => ws.close(1000),
    };
  };
}
