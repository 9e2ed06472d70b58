/**
 * Not a pass/fail benchmark: measures how many calls per second the client
 * pushes through the protocol stub with 1000 calls in flight, and prints it.
 * Bounded by time (about 2 s per run) and by count.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from '../client/index.js';
import { startStub, startStubInWorker } from './fixtures/protocol-stub.js';

const IN_FLIGHT = 1000;
const RUN_MS = 2000;
const MAX_CALLS = 5_000_000;

/** Keeps IN_FLIGHT calls outstanding for RUN_MS: each reply issues the next call. */
async function measure(url: string): Promise<{ calls: number; perSec: number; p50: number; p99: number }> {
  const client = await connect({ url, timeout: 10_000, maxPending: IN_FLIGHT * 2 });
  try {
    const echo = client.actor('Echo', 'bench');
    // Warm up the JIT and the socket.
    await Promise.all(Array.from({ length: IN_FLIGHT }, (_, i) => echo.echo!(i)));
    let done = 0;
    let issued = 0;
    const samples: number[] = [];
    const start = performance.now();
    const end = start + RUN_MS;
    await new Promise<void>((resolve, reject) => {
      let live = 0;
      const one = (): void => {
        issued++;
        live++;
        const t0 = performance.now();
        echo.echo!(issued).then(() => {
          done++;
          live--;
          if ((done & 63) === 0) samples.push(performance.now() - t0);
          if (performance.now() < end && issued < MAX_CALLS) one();
          else if (live === 0) resolve();
        }, reject);
      };
      for (let i = 0; i < IN_FLIGHT; i++) one();
    });
    const secs = (performance.now() - start) / 1000;
    samples.sort((a, b) => a - b);
    return {
      calls: done,
      perSec: Math.round(done / secs),
      p50: samples[Math.floor(samples.length * 0.5)] ?? 0,
      p99: samples[Math.floor(samples.length * 0.99)] ?? 0,
    };
  } finally {
    await client.close();
  }
}

function report(label: string, r: Awaited<ReturnType<typeof measure>>): string {
  return `${label}: ${r.perSec.toLocaleString('en-US')} calls/s (${r.calls} calls, ${IN_FLIGHT} in flight, latency p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms)`;
}

describe('client throughput (measurement, not a timed assertion)', () => {
  it('stub in the same thread as the client', async (t) => {
    const stub = await startStub({ record: false });
    try {
      const r = await measure(stub.url);
      t.diagnostic(report('same thread', r));
      assert.ok(r.calls > 0);
    } finally {
      stub.close();
    }
  });

  it('stub in a worker thread (client and stub on separate cores)', async (t) => {
    const stub = await startStubInWorker({ record: false });
    try {
      const r = await measure(stub.url);
      t.diagnostic(report('worker stub', r));
      assert.ok(r.calls > 0);
    } finally {
      await stub.close();
    }
  });
});
