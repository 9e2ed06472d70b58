/**
 * A minimal client for wire protocol v1 (protocol/wire.ts): calls made in the
 * same turn of the event loop go out as one msgpack frame (an array of call
 * messages), and replies may come back batched the same way. It stands in for
 * the Troupe SDK until that exists, so the raw-uWS ceiling can be measured.
 */
import WebSocket from 'ws';
import { Packr, Unpackr } from 'msgpackr';
import { WS_PATH, type CallMessage, type ServerMessage } from '../../protocol/index.js';
import type { Caller, WsBatchSpec } from './index.js';

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

// Plain msgpack maps: the record extension is msgpackr-only and servers need not speak it.
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

export async function open(spec: WsBatchSpec): Promise<Caller> {
  if (!spec.url.endsWith(WS_PATH)) throw new TypeError(`ws-batch: url must end with ${WS_PATH}, got ${spec.url}`);
  const ws = new WebSocket(spec.url, { perMessageDeflate: false });
  ws.binaryType = 'nodebuffer';
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });

  const pending = new Map<number, Pending>();
  let queue: CallMessage[] = [];
  let scheduled = false;
  let nextId = 1;
  let closed: Error | null = null;

  const flush = (): void => {
    scheduled = false;
    const batch = queue;
    queue = [];
    ws.send(packr.pack(batch.length === 1 ? batch[0] : batch));
  };

  const settle = (m: ServerMessage): void => {
    if (m.op === 'event' || m.id === null || typeof m.id !== 'number') return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.op === 'result') p.resolve(m.value);
    else p.reject(new Error(`${m.code}: ${m.message}`));
  };

  ws.on('message', (data: Buffer) => {
    const decoded = unpackr.unpack(data) as ServerMessage | ServerMessage[];
    if (Array.isArray(decoded)) for (const m of decoded) settle(m);
    else settle(decoded);
  });
  ws.on('close', () => {
    closed = new Error('ws-batch: connection closed');
    for (const p of pending.values()) p.reject(closed);
    pending.clear();
  });
  ws.on('error', () => { /* 'close' follows and fails what is pending */ });

  return {
    call(key: string): Promise<unknown> {
      if (closed) return Promise.reject(closed);
      const id = nextId++;
      queue.push({ op: 'call', id, actor: 'Counter', key, method: 'add', args: [1] });
      // A microtask, not setImmediate: the replies to a batch resume their
      // callers in one microtask run, so their next calls share one frame,
      // and a lone call is not held back for a trip round the event loop.
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    },
    async close(): Promise<void> {
      if (ws.readyState === WebSocket.CLOSED) return;
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close();
      });
    },
  };
}
