/**
 * The discovery contract: one suite, run against every engine
 * (`discovery-static.test.ts`, `discovery-consul.test.ts`).
 *
 * Each test member is a real gateway stand-in: a tiny `node:http` server on
 * 127.0.0.1 answering `GET /health/ready`. Crashes are real too: a member in a
 * child process is killed with SIGKILL (or frozen with SIGSTOP), and we time
 * how long every watcher takes to drop it.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { AddressInfo } from 'node:net';
import { createDiscovery, type Discovery, type DiscoveryConfig, type Logger, type Member } from '../runtime/discovery/index.js';

export interface DiscoveryHarness {
  readonly engine: 'static' | 'consul';
  /** Before the suite (e.g. start a Consul agent). */
  setup?(): Promise<void>;
  teardown?(): Promise<void>;
  /**
   * Configuration for one member of a test cluster, JSON only (child processes
   * receive it). `peers` are all members of the cluster; `cluster` is unique
   * per test so that clusters of different tests never see each other.
   */
  config(peers: readonly Member[], cluster: string): Omit<DiscoveryConfig, 'logger'>;
  /** Asserted bound from a crash to its removal from every watcher's list. */
  readonly crashBoundMs: number;
  /** Asserted bound from `leave()` to its removal from every other member's list. */
  readonly leaveBoundMs: number;
  /** Asserted bound for a member to be seen by every member after start. */
  readonly joinBoundMs: number;
}

const HOST = '127.0.0.1';
const CHILD_IO_TIMEOUT_MS = 15_000;
/** Crash-measurement runs per engine; raise with TROUPE_DISCOVERY_RUNS for a report. */
export const MEASURE_RUNS = Math.max(1, Math.min(100, Number(process.env.TROUPE_DISCOVERY_RUNS ?? 5) || 5));

let clusterCounter = 0;
export function nextCluster(engine: string): string {
  clusterCounter += 1;
  return `t${process.pid}-${engine}-${clusterCounter}`;
}

export function ids(members: readonly Member[]): string[] {
  return members.map((m) => m.id);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface LogEntry {
  readonly level: string;
  readonly event: string;
  readonly fields?: Record<string, unknown>;
}

/** Collects log entries instead of printing them; tests may assert on events. */
export function collectingLogger(into: LogEntry[]): Logger {
  return {
    log(level, event, fields) {
      if (into.length < 1000) into.push({ level, event, ...(fields === undefined ? {} : { fields }) });
    },
  };
}

export const quietLogger: Logger = { log() {} };

/**
 * Resolves with the time (ms since `since`) at which `predicate` first held
 * for `d.members()`; rejects after `boundMs`. Checks at once, then on every change.
 */
export function whenMembers(d: Discovery, predicate: (m: readonly Member[]) => boolean, boundMs: number, since = performance.now(), what = 'condition'): Promise<number> {
  return new Promise((resolve, reject) => {
    if (predicate(d.members())) {
      resolve(performance.now() - since);
      return;
    }
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${what} not met within ${boundMs} ms; members: ${JSON.stringify(ids(d.members()))}`));
    }, boundMs);
    const off = d.onChange((members) => {
      if (!predicate(members)) return;
      clearTimeout(timer);
      off();
      resolve(performance.now() - since);
    });
  });
}

export function hasExactly(expected: readonly string[]): (m: readonly Member[]) => boolean {
  const want = [...expected].sort().join(',');
  return (m) => ids(m).join(',') === want;
}

export function lacks(id: string): (m: readonly Member[]) => boolean {
  return (m) => !m.some((x) => x.id === id);
}

export function includes(id: string): (m: readonly Member[]) => boolean {
  return (m) => m.some((x) => x.id === id);
}

/** An in-process member: a health server plus its discovery. */
export class TestNode {
  ready = true;
  discovery: Discovery | undefined;
  readonly logs: LogEntry[] = [];
  #server: Server;
  member: Member;

  private constructor(server: Server, member: Member) {
    this.#server = server;
    this.member = member;
  }

  static async listen(id: string, extra: Partial<Member> = {}): Promise<TestNode> {
    let node: TestNode | undefined;
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/health/ready' ? (node?.ready ? 200 : 503) : 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, HOST, r));
    const port = (server.address() as AddressInfo).port;
    // linkPort is never connected to in these tests; any valid port distinct from the gateway's will do.
    node = new TestNode(server, { id, address: HOST, port, linkPort: port === 65_535 ? 1 : port + 1, ...extra });
    return node;
  }

  async start(config: Omit<DiscoveryConfig, 'logger'>): Promise<Discovery> {
    this.discovery = await createDiscovery({ ...config, logger: collectingLogger(this.logs) });
    await this.discovery.start(this.member);
    return this.discovery;
  }

  get d(): Discovery {
    if (this.discovery === undefined) throw new Error(`${this.member.id} not started`);
    return this.discovery;
  }

  /** Graceful drain as the runtime does it: readiness fails, then discovery leaves. */
  async leave(): Promise<void> {
    this.ready = false;
    await this.d.leave();
  }

  /** The health endpoint stops answering (listener closed, open sockets dropped); discovery keeps running. */
  async stopAnswering(): Promise<void> {
    await new Promise<void>((r) => {
      this.#server.close(() => r());
      this.#server.closeAllConnections();
    });
  }

  async stop(): Promise<void> {
    await this.discovery?.close();
    if (this.#server.listening) await this.stopAnswering();
  }
}

const children = new Set<ChildProcess>();
let exitHook = false;

// The child: a health server on a free port, then discovery when told. It
// reports on stdout (JSON lines) and takes commands on stdin.
// Other builds may rewrite dist/ while a test runs (a shared work tree): a child
// that loads a half-written module says so with `loadError`, and is spawned again.
const CHILD_SOURCE = `
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
const send = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
let createDiscovery;
try {
  ({ createDiscovery } = await import(process.env.TROUPE_DISCOVERY_ENTRY));
  // Load both engines now, so that a later start() cannot meet a half-written file.
  const engines = await Promise.all(JSON.parse(process.env.TROUPE_DISCOVERY_ENGINES).map((u) => import(u)));
  if (typeof createDiscovery !== 'function' || engines.some((m) => Object.keys(m).length === 0)) throw new Error('incomplete module');
} catch (err) {
  send({ loadError: String(err && err.message || err) });
  process.exit(3);
}
const server = createServer((req, res) => { res.statusCode = req.url === '/health/ready' ? 200 : 404; res.end(); });
server.listen(0, '127.0.0.1', () => send({ port: server.address().port }));
let discovery;
const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const msg = JSON.parse(line);
  try {
    if (msg.cmd === 'start') {
      discovery = await createDiscovery({ ...msg.config, logger: { log() {} } });
      await discovery.start(msg.self);
      send({ started: true });
    } else if (msg.cmd === 'close') {
      await discovery?.close();
      await new Promise((r) => server.close(r));
      send({ closed: true });
      rl.close();
    }
  } catch (err) { send({ error: String(err && err.message || err) }); }
});
`;

/** A member in its own process, so that a crash is a real SIGKILL. */
export class ChildMember {
  readonly child: ChildProcess;
  member!: Member;
  #lines: string[] = [];
  #waiters: Array<() => void> = [];

  private constructor(child: ChildProcess) {
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.#lines.push(line);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async spawn(id: string): Promise<ChildMember> {
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const c of children) if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
          try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
        }
      });
    }
    const entry = new URL('../runtime/discovery/index.js', import.meta.url).href;
    const engines = ['static/static-discovery.js', 'consul/consul-discovery.js'].map((f) => new URL(`../runtime/discovery/${f}`, import.meta.url).href);
    for (let attempt = 1; ; attempt++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SOURCE], {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { ...process.env, TROUPE_DISCOVERY_ENTRY: entry, TROUPE_DISCOVERY_ENGINES: JSON.stringify(engines) },
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      const m = new ChildMember(child);
      const first = await m.#next();
      if (typeof first.loadError === 'string') {
        if (attempt >= 5) throw new Error(`child member could not load discovery 5 times: ${first.loadError}`);
        await sleep(300);
        continue;
      }
      m.member = { id, address: HOST, port: first.port as number, linkPort: (first.port as number) + 1 };
      return m;
    }
  }

  async #next(): Promise<Record<string, unknown>> {
    const deadline = Date.now() + CHILD_IO_TIMEOUT_MS;
    while (this.#lines.length === 0) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error('child member exited');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`child member silent for ${CHILD_IO_TIMEOUT_MS} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.#waiters.push(() => { clearTimeout(t); r(); });
      });
    }
    const msg = JSON.parse(this.#lines.shift()!) as Record<string, unknown>;
    if (typeof msg.error === 'string') throw new Error(`child member: ${msg.error}`);
    return msg;
  }

  async start(config: Omit<DiscoveryConfig, 'logger'>): Promise<void> {
    this.child.stdin!.write(`${JSON.stringify({ cmd: 'start', config, self: this.member })}\n`);
    await this.#next();
  }

  /** Closes discovery and the server, ends stdin, and resolves with how long the process took to exit by itself. */
  async closeAndExit(boundMs: number): Promise<number> {
    this.child.stdin!.write(`${JSON.stringify({ cmd: 'close' })}\n`);
    await this.#next();
    const t0 = performance.now();
    this.child.stdin!.end();
    return await new Promise((resolve, reject) => {
      if (this.child.exitCode !== null) return resolve(0);
      const timer = setTimeout(() => {
        this.kill();
        reject(new Error(`child did not exit within ${boundMs} ms after close(): something kept the event loop alive`));
      }, boundMs);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      });
    });
  }

  signal(sig: NodeJS.Signals): void {
    if (this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null) process.kill(this.child.pid, sig);
  }

  kill(): void {
    this.signal('SIGKILL');
  }
}

/** Starts `n` in-process members of one cluster, all at once; resolves when each sees all. */
export async function startCluster(h: DiscoveryHarness, n: number, extras: ReadonlyArray<Partial<Member>> = []): Promise<{ nodes: TestNode[]; cluster: string; peers: Member[] }> {
  const cluster = nextCluster(h.engine);
  const nodes = await Promise.all(Array.from({ length: n }, (_, i) => TestNode.listen(`${cluster}-n${i + 1}`, extras[i] ?? {})));
  const peers = nodes.map((x) => x.member);
  await Promise.all(nodes.map((x) => x.start(h.config(peers, cluster))));
  const all = hasExactly(peers.map((p) => p.id));
  await Promise.all(nodes.map((x) => whenMembers(x.d, all, h.joinBoundMs, performance.now(), `${x.member.id} sees all ${n}`)));
  return { nodes, cluster, peers };
}

export function summary(values: readonly number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `n=${s.length} min=${s[0].toFixed(0)} median=${q(0.5).toFixed(0)} p90=${q(0.9).toFixed(0)} max=${s[s.length - 1].toFixed(0)} ms`;
}

export function discoveryContract(h: DiscoveryHarness): void {
  describe(`discovery contract: ${h.engine}`, () => {
    const live: TestNode[] = [];
    const spawned: ChildMember[] = [];
    const track = (nodes: TestNode[]) => {
      live.push(...nodes);
      return nodes;
    };

    before(async () => {
      await h.setup?.();
    });

    after(async () => {
      for (const c of spawned) c.kill();
      await Promise.all(live.map((n) => n.stop()));
      await h.teardown?.();
    });

    it('a started member sees itself, with every field as given', async () => {
      const cluster = nextCluster(h.engine);
      const [a] = track([await TestNode.listen(`${cluster}-a`, { zone: 'z-1', meta: { version: '1.2.3', role: 'api' } })]);
      await a.start(h.config([a.member], cluster));
      assert.deepEqual(a.d.members(), [a.member]);
      assert.ok(Object.isFrozen(a.d.members()) && Object.isFrozen(a.d.members()[0]), 'the list and its members are frozen');
      assert.equal(a.d.engine, h.engine);
    });

    it('three members see each other, sorted by id, with their zones and meta', async () => {
      const { nodes, peers } = await startCluster(h, 3, [{ zone: 'a' }, { zone: 'b', meta: { x: 'y' } }, {}]);
      track(nodes);
      const expected = [...peers].sort((x, y) => (x.id < y.id ? -1 : 1));
      for (const n of nodes) assert.deepEqual(n.d.members(), expected);
    });

    it('leave() drops self at once locally, from the others promptly, and the leaver keeps watching', async (t) => {
      const { nodes } = await startCluster(h, 3);
      track(nodes);
      const [a, b, c] = nodes;
      const t0 = performance.now();
      await b.leave();
      assert.ok(lacks(b.member.id)(b.d.members()), 'the leaver no longer lists itself once leave() resolves');
      const seen = await Promise.all([a, c].map((n) => whenMembers(n.d, lacks(b.member.id), h.leaveBoundMs, t0, `${n.member.id} drops ${b.member.id}`)));
      t.diagnostic(`${h.engine}: clean leave seen by the others after ${seen.map((x) => x.toFixed(0)).join(', ')} ms`);
      // The leaver still follows the cluster: it sees a later failure.
      await a.stopAnswering();
      await whenMembers(b.d, hasExactly([c.member.id]), h.crashBoundMs, performance.now(), 'the leaver sees a later crash');
      await b.leave(); // idempotent
    });

    it('onChange fires once per change, with the new list, and not after unsubscribing', async () => {
      const { nodes } = await startCluster(h, 3);
      track(nodes);
      const [a, b, c] = nodes;
      const calls: string[][] = [];
      const off = a.d.onChange((m) => calls.push(ids(m)));
      const lateCalls: string[][] = [];
      const offLate = c.d.onChange((m) => lateCalls.push(ids(m)));
      offLate();

      await b.leave();
      await whenMembers(a.d, lacks(b.member.id), h.leaveBoundMs, performance.now(), 'b gone');
      // Let several probe rounds / watch wake-ups pass: an unchanged list must not fire again.
      await sleep(2_500);
      assert.deepEqual(calls, [[a.member.id, c.member.id]]);

      await c.stopAnswering();
      await whenMembers(a.d, lacks(c.member.id), h.crashBoundMs, performance.now(), 'c gone');
      await sleep(2_500);
      assert.deepEqual(calls, [[a.member.id, c.member.id], [a.member.id]]);
      assert.deepEqual(lateCalls, [], 'an unsubscribed listener is never called');
      off();
    });

    it(`a member whose health endpoint stops answering disappears from every list within ${h.crashBoundMs} ms`, async (t) => {
      const { nodes } = await startCluster(h, 3);
      track(nodes);
      const [a, b, c] = nodes;
      const t0 = performance.now();
      await b.stopAnswering();
      const seen = await Promise.all([a, c].map((n) => whenMembers(n.d, lacks(b.member.id), h.crashBoundMs, t0, `${n.member.id} drops ${b.member.id}`)));
      t.diagnostic(`${h.engine}: health endpoint closed -> removed after ${seen.map((x) => x.toFixed(0)).join(', ')} ms`);
    });

    it(`a killed member (SIGKILL) disappears from every watcher within ${h.crashBoundMs} ms (${MEASURE_RUNS} runs, measured)`, async (t) => {
      const cluster = nextCluster(h.engine);
      const victims = await Promise.all(Array.from({ length: MEASURE_RUNS }, (_, i) => ChildMember.spawn(`${cluster}-victim${i + 1}`)));
      spawned.push(...victims);
      const watchers = track(await Promise.all([1, 2].map((i) => TestNode.listen(`${cluster}-w${i}`))));
      const peers = [...watchers.map((w) => w.member), ...victims.map((v) => v.member)];
      await Promise.all(watchers.map((w) => w.start(h.config(peers, cluster))));
      const removal: number[] = [];
      for (const victim of victims) {
        const id = victim.member.id;
        await victim.start(h.config(peers, cluster));
        await Promise.all(watchers.map((w) => whenMembers(w.d, includes(id), h.joinBoundMs, performance.now(), `${w.member.id} sees ${id}`)));
        // Vary the crash's phase against the check interval.
        await sleep(Math.floor(Math.random() * 1000));
        const t0 = performance.now();
        victim.kill();
        const seen = await Promise.all(watchers.map((w) => whenMembers(w.d, lacks(id), h.crashBoundMs, t0, `${w.member.id} drops ${id}`)));
        removal.push(Math.max(...seen));
      }
      t.diagnostic(`${h.engine}: SIGKILL -> removed from every watcher: ${summary(removal)}`);
    });

    it(`a clean leave is seen by every watcher within ${h.leaveBoundMs} ms (${MEASURE_RUNS} runs, measured)`, async (t) => {
      const { nodes } = await startCluster(h, MEASURE_RUNS + 2);
      track(nodes);
      const [w1, w2, ...leavers] = nodes;
      const seenAfter: number[] = [];
      for (const leaver of leavers) {
        await sleep(Math.floor(Math.random() * 1000));
        const t0 = performance.now();
        await leaver.leave();
        const seen = await Promise.all([w1, w2].map((w) => whenMembers(w.d, lacks(leaver.member.id), h.leaveBoundMs, t0, `${w.member.id} drops ${leaver.member.id}`)));
        seenAfter.push(Math.max(...seen));
      }
      t.diagnostic(`${h.engine}: leave() -> removed from every watcher: ${summary(seenAfter)}`);
    });

    it('a frozen member (SIGSTOP) disappears, and comes back when it resumes', async (t) => {
      const cluster = nextCluster(h.engine);
      const victim = await ChildMember.spawn(`${cluster}-frozen`);
      spawned.push(victim);
      const [w] = track([await TestNode.listen(`${cluster}-w`)]);
      const peers = [w.member, victim.member];
      await w.start(h.config(peers, cluster));
      await victim.start(h.config(peers, cluster));
      await whenMembers(w.d, includes(victim.member.id), h.joinBoundMs, performance.now(), 'victim seen');
      let t0 = performance.now();
      victim.signal('SIGSTOP');
      const gone = await whenMembers(w.d, lacks(victim.member.id), h.crashBoundMs, t0, 'frozen member dropped');
      t0 = performance.now();
      victim.signal('SIGCONT');
      const back = await whenMembers(w.d, includes(victim.member.id), h.joinBoundMs, t0, 'resumed member back');
      t.diagnostic(`${h.engine}: SIGSTOP -> removed after ${gone.toFixed(0)} ms; SIGCONT -> back after ${back.toFixed(0)} ms`);
    });

    it('close() stops every timer and socket: a process exits by itself right after it', async (t) => {
      const cluster = nextCluster(h.engine);
      const m = await ChildMember.spawn(`${cluster}-closer`);
      spawned.push(m);
      await m.start(h.config([m.member], cluster));
      const exitedAfter = await m.closeAndExit(3_000);
      t.diagnostic(`${h.engine}: process exited ${exitedAfter.toFixed(0)} ms after close()`);
    });

    it('close() during start() makes start() reject at once, not at its ready timeout', async () => {
      const cluster = nextCluster(h.engine);
      const [a] = track([await TestNode.listen(`${cluster}-a`)]);
      a.ready = false; // never healthy: start() would wait for its full ready timeout
      const d = await createDiscovery({ ...h.config([a.member], cluster), logger: quietLogger });
      const t0 = performance.now();
      const rejected = assert.rejects(d.start(a.member), { code: 'E_UNAVAILABLE', message: /closed before it started/ });
      await sleep(300);
      await d.close();
      await rejected;
      assert.ok(performance.now() - t0 < 2_000, 'start() gave up promptly');
    });

    it('close() is idempotent and empties the list without calling listeners', async () => {
      const cluster = nextCluster(h.engine);
      const [a] = track([await TestNode.listen(`${cluster}-a`)]);
      await a.start(h.config([a.member], cluster));
      let called = 0;
      a.d.onChange(() => (called += 1));
      await Promise.all([a.d.close(), a.d.close()]);
      await a.d.close();
      assert.deepEqual(a.d.members(), []);
      assert.equal(called, 0);
      await assert.rejects(a.d.start(a.member), /started|closed/);
    });
  });
}
