/**
 * Every effect exactly once on a three-node cluster (real Consul, real
 * Hazelcast), while nodes die at the worst moments: a failpoint kills one
 * right after a commit, before its replies and tells leave; another is
 * killed with SIGKILL in the middle of a batch and again plainly; both come
 * back. Then 2,000 reminders over 200 Tickers, due within seconds, while a
 * node is killed.
 *
 * The verdicts: the counters hold exactly the sum of the acknowledged
 * `Relay.forward` and `Relay.forwardAwait` amounts (none doubled, none lost);
 * every reminder fired once, the cancelled ones never.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TroupeClient } from '../client/index.js';
import { ChaosCluster } from './chaos/cluster.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const RETRYABLE = new Set(['E_UNAVAILABLE', 'E_TIMEOUT', 'E_OVERLOADED']);

/** Calls until acknowledged, with the same idem key every time, within `untilMs` (epoch). */
async function callUntilAcked(client: TroupeClient, actor: string, key: string, method: string, args: unknown[], idem: string, untilMs: number): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.call(actor, key, method, args, { idem, timeout: 5000 });
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (!RETRYABLE.has(code) || Date.now() > untilMs) throw err;
      await sleep(Math.min(500, 50 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random()));
    }
  }
}

async function metricSum(urls: readonly string[], name: string): Promise<number> {
  let sum = 0;
  for (const u of urls) {
    const text = await (await fetch(`${u.replace('ws://', 'http://').replace('/v1/ws', '')}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
    sum += line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('exactly-once effects on a three-node cluster under failpoint kills and kill -9', () => {
  let cluster: ChaosCluster;
  let client: TroupeClient;
  const progress = (m: string): void => void process.stdout.write(`# ${m}\n`);

  before(async () => {
    cluster = await ChaosCluster.start({
      nodes: 3, sagaScanMs: 1000, sagaStaleMs: 10_000, nodeFlags: ['--idem-max', '256'],
      logDir: join(tmpdir(), `troupe-exactly-once-${process.pid}`), progress,
    });
    client = await connect({ urls: cluster.urls, timeout: 5000 });
  });

  after(async () => {
    await client?.close().catch(() => {});
    await cluster?.stop();
  });

  test('every acknowledged Relay.forward and Relay.forwardAwait adds exactly once, through kills after commit, mid-batch and kill -9', async () => {
    const counters = 40;
    const relays = 120;
    const calls = 3000;
    const workers = 24;
    const untilMs = Date.now() + 90_000;
    const expected = new Map<string, number>();
    let acked = 0;
    let next = 0;
    const failed: string[] = [];

    // n3 dies right after a commit, before that group's replies and tells leave; n2 in the middle of a batch.
    await cluster.kill('n3');
    await cluster.restart('n3', { TROUPE_FAILPOINTS: 'after-commit=kill@150' });
    await cluster.kill('n2');
    await cluster.restart('n2', { TROUPE_FAILPOINTS: 'mid-batch=kill@3' });
    await cluster.waitForMembers(30_000);

    const faults: string[] = [];
    const chaos = (async () => {
      const n3Died = cluster.exited('n3');
      const n2Died = cluster.exited('n2');
      const gone = async (id: string, died: Promise<unknown>, ms: number, point: string): Promise<void> => {
        await Promise.race([died, sleep(ms)]);
        const alive = cluster.alive().includes(id);
        if (alive) await cluster.kill(id);
        faults.push(`${id} ${alive ? 'kill -9' : `died at ${point}`}`);
      };
      await gone('n3', n3Died, 8000, 'after-commit');
      await sleep(1500);
      // Back, and dying again after a delivery was acknowledged but before its removal from the outbox committed.
      await cluster.restart('n3', { TROUPE_FAILPOINTS: 'after-delivery=kill@100' });
      await gone('n2', n2Died, 3000, 'mid-batch');
      await sleep(1500);
      await cluster.restart('n2');
      await gone('n3', cluster.exited('n3'), 5000, 'after-delivery');
      await sleep(1000);
      await cluster.restart('n3');
      // And once more, plainly, under load.
      await sleep(1500);
      await cluster.kill('n1');
      faults.push('n1 kill -9');
      await sleep(1500);
      await cluster.restart('n1');
    })();

    await Promise.all(Array.from({ length: workers }, async () => {
      while (next < calls && Date.now() < untilMs) {
        const i = next++;
        const counter = `eo-c${i % counters}`;
        const amount = 1 + (i % 7);
        const method = i % 3 === 0 ? 'forwardAwait' : 'forward';
        try {
          await callUntilAcked(client, 'Relay', `eo-r${i % relays}`, method, [counter, amount], `eo-${i}`, untilMs);
          expected.set(counter, (expected.get(counter) ?? 0) + amount);
          acked++;
        } catch (err) {
          failed.push(`${i} ${method}: ${(err as Error).message}`);
        }
      }
    }));
    await chaos;
    progress(`load: ${acked} of ${calls} calls acknowledged; faults: ${faults.join(', ')}`);
    assert.deepEqual(failed, [], 'every call was acknowledged in the end');
    assert.equal(acked, calls);

    await cluster.waitForMembers(30_000);
    // Tells committed but not yet delivered are delivered by whichever node owns their sender now.
    const drainedAt = Date.now();
    for (;;) {
      const pending = await metricSum(cluster.urls, 'troupe_outbox_pending').catch(() => -1);
      if (pending === 0) break;
      if (Date.now() - drainedAt > 30_000) assert.fail(`outboxes still hold ${pending} tells after 30 s`);
      await sleep(200);
    }
    await sleep(500);
    const mismatches: string[] = [];
    for (let c = 0; c < counters; c++) {
      const key = `eo-c${c}`;
      const total = (await callUntilAcked(client, 'Counter', key, 'get', [], `eo-read-${c}-${Date.now()}`, Date.now() + 20_000)) as number;
      if (total !== (expected.get(key) ?? 0)) mismatches.push(`${key}: ${total}, expected ${expected.get(key)} (${total > expected.get(key)! ? 'doubled' : 'lost'} ${Math.abs(total - expected.get(key)!)})`);
    }
    const undeliverable = await metricSum(cluster.urls, 'troupe_outbox_undeliverable_total');
    progress(`outboxes drained in ${Date.now() - drainedAt} ms; ${mismatches.length} counters wrong; ${undeliverable} undeliverable`);
    assert.deepEqual(mismatches, []);
  });

  test('2,000 reminders over 200 Tickers, due within seconds, a node killed meanwhile: each fires exactly once, cancelled ones never', async () => {
    await cluster.waitForMembers(30_000);
    const tickers = 200;
    const perTicker = 10;
    const t0 = Date.now();
    // Due 2.5-5.5 s from now, so the first ones are due while the killed node's shards fail over;
    // the last of each ticker's ten (due last) is cancelled well before it is due.
    await Promise.all(Array.from({ length: tickers }, async (_, t) => {
      for (let r = 0; r < perTicker; r++) {
        const after = 2500 + Math.floor((3000 * r) / perTicker) + (t % 10) * 10 - (Date.now() - t0);
        await callUntilAcked(client, 'Ticker', `rt-${t}`, 'schedule', [`r${r}`, Math.max(1500, after)], `rt-${t}-s${r}`, Date.now() + 20_000);
      }
      await callUntilAcked(client, 'Ticker', `rt-${t}`, 'cancel', [`r${perTicker - 1}`], `rt-${t}-cancel`, Date.now() + 20_000);
    }));
    const scheduledIn = Date.now() - t0;
    await sleep(Math.max(0, 2300 - (Date.now() - t0)));
    await cluster.kill('n2');
    const killedAt = Date.now() - t0;
    await sleep(Math.max(0, 9000 - (Date.now() - t0)));
    await cluster.restart('n2');
    await cluster.waitForMembers(30_000);
    await sleep(1000);

    const wrong: string[] = [];
    const lateness: number[] = [];
    for (let t = 0; t < tickers; t++) {
      const fired = (await callUntilAcked(client, 'Ticker', `rt-${t}`, 'fired', [], `rt-read-${t}-${Date.now()}`, Date.now() + 20_000)) as Record<string, number>;
      for (let r = 0; r < perTicker; r++) {
        const want = r === perTicker - 1 ? undefined : 1;
        if (fired[`r${r}`] !== want) wrong.push(`rt-${t}/r${r}: fired ${fired[`r${r}`] ?? 0} times, expected ${want ?? 0}`);
      }
      const late = (await callUntilAcked(client, 'Ticker', `rt-${t}`, 'lateness', [], `rt-late-${t}-${Date.now()}`, Date.now() + 20_000)) as Record<string, number>;
      lateness.push(...Object.values(late));
    }
    lateness.sort((a, b) => a - b);
    const p = (q: number): number => lateness[Math.min(lateness.length - 1, Math.floor(q * lateness.length))] ?? NaN;
    progress(`reminders: scheduled in ${scheduledIn} ms, n2 killed at t+${killedAt} ms; lateness p50 ${p(0.5)} ms, p99 ${p(0.99)} ms, max ${lateness.at(-1)} ms over ${lateness.length} firings`);
    assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} reminders fired the wrong number of times`);
    assert.equal(lateness.length, tickers * (perTicker - 1));
    // The killed node's reminders wait for failover: Consul's TTL (2 s) plus its 1 s check, at most.
    assert.ok(p(0.99) < 3000, `p99 lateness ${p(0.99)} ms is past the failover bound`);
  });
});
