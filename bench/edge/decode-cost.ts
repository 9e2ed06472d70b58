/**
 * What the gateway pays to take in one frame before any call is routed:
 * decoding (with the edge's limit checks) and the per-message field checks,
 * on a realistic frame: a batch of 1000 `Counter.add(1)` calls, as the SDK
 * sends it (msgpack) and as JSON text.
 *
 *   npx tsc -p . && node dist/bench/edge/decode-cost.js [rounds] [framesPerRound]
 *
 * Prints the median and the best round per frame and per call. On a shared
 * machine compare medians of runs made back to back, never single rounds.
 */
import { Packr } from 'msgpackr';
import { decodeFrame } from '../../runtime/gateway/frame-codec.js';
import { parseClientMessage } from '../../protocol/wire.js';
import { DEFAULT_LIMITS } from '../../protocol/limits.js';

const rounds = Number(process.argv[2] ?? 15);
const framesPerRound = Number(process.argv[3] ?? 300);
const CALLS = 1000;
// The node's defaults: the edge's limits and --max-batch.
const LIMITS = { ...DEFAULT_LIMITS, maxBatch: 10_000 };

const batch = Array.from({ length: CALLS }, (_, i) => ({ op: 'call', id: i + 1, actor: 'Counter', key: `counter-${i}`, method: 'add', args: [1] }));
// The SDK's encoder: plain msgpack, no records.
const msgpack = toArrayBuffer(new Packr({ useRecords: false }).pack(batch));
const json = toArrayBuffer(new TextEncoder().encode(JSON.stringify(batch)));

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  // uWS hands the gateway an ArrayBuffer of exactly the frame.
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** What FrameHandler does with a frame before routing: decode, then check each message. */
function takeIn(frame: ArrayBuffer, binary: boolean): number {
  const decoded = decodeFrame(frame, binary, LIMITS);
  if (!decoded.ok) throw new Error(`the bench frame was refused: ${decoded.message}`);
  const messages = decoded.value as unknown[];
  let calls = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = parseClientMessage(messages[i], LIMITS) as { op?: string };
    if (m.op === 'call') calls++;
  }
  return calls;
}

function measure(frame: ArrayBuffer, binary: boolean): { median: number; best: number } {
  // Warm-up: let the JIT settle on this shape before timing.
  for (let i = 0; i < framesPerRound; i++) takeIn(frame, binary);
  const perFrame: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = process.hrtime.bigint();
    let calls = 0;
    for (let i = 0; i < framesPerRound; i++) calls += takeIn(frame, binary);
    const ns = Number(process.hrtime.bigint() - started);
    if (calls !== CALLS * framesPerRound) throw new Error(`expected ${CALLS * framesPerRound} calls, got ${calls}`);
    perFrame.push(ns / framesPerRound);
  }
  perFrame.sort((a, b) => a - b);
  return { median: perFrame[Math.floor(perFrame.length / 2)]!, best: perFrame[0]! };
}

for (const [name, frame, binary] of [['msgpack', msgpack, true], ['json', json, false]] as const) {
  process.stderr.write(`[decode-cost] ${name}: ${rounds} rounds of ${framesPerRound} frames (${frame.byteLength} bytes, ${CALLS} calls each)\n`);
  const { median, best } = measure(frame, binary);
  console.log(`${name.padEnd(8)} ${frame.byteLength} B/frame  median ${(median / 1000).toFixed(1)} µs/frame (${(median / CALLS).toFixed(0)} ns/call)  best ${(best / 1000).toFixed(1)} µs/frame`);
}
