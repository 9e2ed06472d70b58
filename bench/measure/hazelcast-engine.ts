/**
 * Quick measurement of the Hazelcast engine (not a test, not the bench/ suite):
 *
 *   npx tsc -p . && node dist/bench/measure/hazelcast-engine.js [--size N] [--value-bytes B]
 *
 * Starts N members (default 1) on free loopback ports, then measures:
 *   1. raw hazelcast-client IMap.set, 1000 in flight (the ceiling);
 *   2. the version-check mechanisms records.ts chose between, 1000 in flight;
 *   3. HazelcastGrid.commit with batches of 64 and 256 writes;
 *   4. single-write commit latency.
 * Every loop is bounded by an operation count and a time limit. The members are
 * stopped by PID at the end, also on Ctrl-C.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, type IMap } from 'hazelcast-client';
import type { RecordWrite } from '../../grid/grid.js';
import { HazelcastGrid } from '../../grid/hazelcast/hazelcast-grid.js';
import { killMember } from '../../runtime/cli/hazelcast/member-process.js';
import { startMembers } from '../../runtime/cli/hazelcast/member-launcher.js';

const { values } = parseArgs({ options: { size: { type: 'string' }, 'value-bytes': { type: 'string' } } });
const CLUSTER_SIZE = Number(values.size ?? 1);
const VALUE_BYTES = Number(values['value-bytes'] ?? 256);
const IN_FLIGHT = 1000;
const TIME_LIMIT_MS = 15_000;

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** Runs `op(i)` for i < count with `inFlight` running at once; stops early at the time limit. Returns ops/s. */
async function drive(count: number, inFlight: number, op: (i: number) => Promise<unknown>): Promise<{ ops: number; perSec: number }> {
  const started = performance.now();
  const deadline = Date.now() + TIME_LIMIT_MS;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count && Date.now() < deadline) await op(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const secs = (performance.now() - started) / 1000;
  return { ops: next, perSec: next / secs };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

function valueFor(version: number): Buffer {
  const b = Buffer.alloc(8 + VALUE_BYTES, 7);
  b.writeBigUInt64BE(BigInt(version));
  return b;
}

async function rawClient(members: string[], clusterName: string): Promise<void> {
  const client = await Client.newHazelcastClient({ clusterName, network: { clusterMembers: members }, properties: { 'hazelcast.logging.level': 'ERROR' } });
  try {
    const map: IMap<string, Buffer> = await client.getMap('troupe.actor.MeasureRaw');
    const KEYS = 10_000;
    const current: Buffer[] = Array.from({ length: KEYS }, () => valueFor(1));
    log('warming up (raw set x2) ...');
    await drive(30_000, IN_FLIGHT, (i) => map.set(`k${i % KEYS}`, current[i % KEYS]!));
    await drive(30_000, IN_FLIGHT, (i) => map.set(`k${i % KEYS}`, current[i % KEYS]!));

    // Keys in flight at once are distinct (1000 < 10 000 keys), so no run sees a conflict.
    const mechanisms: [string, (i: number) => Promise<unknown>][] = [
      ['raw IMap.set (no version check)', (i) => map.set(`k${i % KEYS}`, current[i % KEYS]!)],
      [
        'replaceIfSame, cached old bytes',
        async (i) => {
          const k = i % KEYS;
          const next = valueFor(current[k]!.readUInt32BE(4) + 1);
          if (await map.replaceIfSame(`k${k}`, current[k]!, next)) current[k] = next;
        },
      ],
      [
        'get + replaceIfSame (cache miss)',
        async (i) => {
          const k = i % KEYS;
          const old = (await map.get(`k${k}`))!;
          const next = valueFor(old.readUInt32BE(4) + 1);
          if (await map.replaceIfSame(`k${k}`, old, next)) current[k] = next;
        },
      ],
      [
        'lock + get + set + unlock',
        async (i) => {
          const k = i % KEYS;
          await map.lock(`k${k}`);
          try {
            const old = (await map.get(`k${k}`))!;
            const next = valueFor(old.readUInt32BE(4) + 1);
            await map.set(`k${k}`, next);
            current[k] = next;
          } finally {
            await map.unlock(`k${k}`);
          }
        },
      ],
    ];
    for (let round = 1; round <= 2; round++) {
      for (const [name, op] of mechanisms) {
        const r = await drive(50_000, IN_FLIGHT, op);
        out(`raw client  round ${round}  ${name.padEnd(34)} ${Math.round(r.perSec).toString().padStart(7)} ops/s  (${r.ops} ops, ${IN_FLIGHT} in flight)`);
      }
    }
  } finally {
    await client.shutdown();
  }
}

async function engine(members: string[], clusterName: string): Promise<void> {
  const grid = new HazelcastGrid({ clusterName, members, connectTimeoutMs: 10_000, invocationTimeoutMs: 10_000, logLevel: 'ERROR' });
  await grid.start();
  try {
    const data = new Uint8Array(VALUE_BYTES).fill(7);
    for (const batch of [64, 256]) {
      for (const concurrent of [1, 4]) {
        const type = `MeasureBatch${batch}x${concurrent}`;
        const keys = batch * concurrent;
        const versions = new Array<number>(keys).fill(0);
        const latencies: number[] = [];
        // Each concurrent committer owns its slice of keys, as shards own actors.
        const commitSlice = async (slice: number): Promise<void> => {
          const writes: RecordWrite[] = [];
          for (let j = 0; j < batch; j++) {
            const k = slice * batch + j;
            writes.push({ type, key: `a${k}`, expectedVersion: versions[k]!, data });
          }
          const t = performance.now();
          const outcomes = await grid.commit(writes);
          latencies.push(performance.now() - t);
          outcomes.forEach((o, j) => {
            if (!o.ok) throw new Error(`unexpected conflict on a${slice * batch + j}`);
            versions[slice * batch + j] = o.version;
          });
        };
        // Warm-up, then the measured run: bounded by count and time.
        const rounds = Math.ceil(100_000 / keys);
        for (let r = 0; r < 20; r++) await Promise.all(Array.from({ length: concurrent }, (_, s) => commitSlice(s)));
        latencies.length = 0;
        const started = performance.now();
        const deadline = Date.now() + TIME_LIMIT_MS;
        let done = 0;
        for (; done < rounds && Date.now() < deadline; done++) await Promise.all(Array.from({ length: concurrent }, (_, s) => commitSlice(s)));
        const secs = (performance.now() - started) / 1000;
        latencies.sort((a, b) => a - b);
        out(
          `engine      commit batch ${String(batch).padStart(3)} x ${concurrent} concurrent  ${Math.round((done * keys) / secs).toString().padStart(7)} writes/s` +
            `  batch p50 ${percentile(latencies, 0.5).toFixed(2)} ms  p99 ${percentile(latencies, 0.99).toFixed(2)} ms`,
        );
      }
    }

    const type = 'MeasureSingle';
    let version = 0;
    const latencies: number[] = [];
    for (let i = 0; i < 3_000; i++) {
      const t = performance.now();
      const [o] = await grid.commit([{ type, key: 'one', expectedVersion: version, data }]);
      if (i >= 500) latencies.push(performance.now() - t); // first 500 are warm-up
      if (!o!.ok) throw new Error('unexpected conflict');
      version = o!.version;
    }
    latencies.sort((a, b) => a - b);
    out(`engine      single write commit latency   p50 ${percentile(latencies, 0.5).toFixed(3)} ms  p99 ${percentile(latencies, 0.99).toFixed(3)} ms  (${latencies.length} sequential writes)`);
  } finally {
    await grid.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-hz-measure-'));
  log(`starting ${CLUSTER_SIZE} member(s) ...`);
  const running = await startMembers({ count: CLUSTER_SIZE, clusterName: 'troupe-measure', dir, heapMb: 256, tieToParent: true, onProgress: (m) => log(`  ${m}`) });
  const stopNow = (): void => {
    for (const m of running.members) killMember(m.pid);
    process.exit(130);
  };
  process.once('SIGINT', stopNow);
  const members = running.members.map((m) => m.address);
  try {
    out(`# ${CLUSTER_SIZE} member(s), backup-count 1, ${VALUE_BYTES}-byte values (+8-byte version header), Node ${process.version}`);
    await rawClient(members, running.clusterName);
    await engine(members, running.clusterName);
  } finally {
    process.off('SIGINT', stopNow);
    await running.stop(5_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
