/**
 * The socket the SDK needs, whatever provides it: the `ws` package in Node,
 * the global WebSocket in browsers. The rest of the SDK sees only `Socket`.
 */

/** Why a socket closed. `unauthorized` is known only where the HTTP status is visible (Node). */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  readonly unauthorized: boolean;
  readonly error?: unknown;
}

export interface SocketEvents {
  open(): void;
  /** One frame: bytes for binary frames, a string for text frames. */
  frame(data: Uint8Array | string): void;
  /** Called once, whether the socket never opened or dropped later. */
  close(info: CloseInfo): void;
}

export interface Socket {
  /** Writes or copies `frame` before returning: the caller reuses its buffer for the next frame. */
  send(frame: Uint8Array): void;
  /** Bytes accepted by send() but not yet written to the network. */
  readonly bufferedAmount: number;
  close(): void;
}

/** Opens a socket to `url`; events arrive on `events`. The token goes where the platform allows. */
export type OpenSocket = (url: string, token: string | undefined, events: SocketEvents) => Socket;

type WebSocketCtor = typeof globalThis.WebSocket;

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/**
 * Picks the transport. In Node the `ws` package is preferred even where a global
 * WebSocket exists (Node 22+), because only `ws` can send an Authorization
 * header; it is imported here, lazily, so browser bundles never load it.
 */
export async function loadTransport(given?: WebSocketCtor): Promise<OpenSocket> {
  const global = given ?? (globalThis as { WebSocket?: WebSocketCtor }).WebSocket;
  if (given === undefined && isNode()) {
    try {
      const { wsTransport } = await import('./transport-ws.js');
      return await wsTransport();
    } catch (err) {
      if (global === undefined) {
        throw new TypeError(`no WebSocket implementation: install the 'ws' package (${err instanceof Error ? err.message : String(err)})`);
      }
    }
  }
  if (global === undefined) throw new TypeError('no WebSocket implementation: this platform has no global WebSocket');
  const { browserTransport } = await import('./transport-browser.js');
  return browserTransport(global);
}
