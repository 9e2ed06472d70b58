/**
 * Static discovery: a fixed peer list, with liveness from HTTP probes.
 *
 * Every member (self included) is probed with `GET /health/ready` on its
 * gateway port every `intervalMs`; a member is dropped after
 * `failuresBeforeDown` failed probes and comes back after `successesBeforeUp`
 * good ones. Probing self too keeps every node's list computed by one rule, so
 * nodes that see the same health agree on the same list.
 *
 * With `probe: false` the list is trusted as given: members never disappear
 * (except self on `leave()`), so there is no failover. Use it only for a
 * single node or for tests.
 *
 * Leaving: there is no shared registry to deregister from, so the other nodes
 * notice a leave only through the health probe. A draining node must make its
 * `/health/ready` answer non-2xx (the gateway does) before or when it calls
 * `leave()`; the others drop it within one probe interval.
 *
 * Measured with the defaults (1000 ms interval, 500 ms timeout, down after
 * one failure; `TROUPE_DISCOVERY_RUNS=12 node --test dist/test/discovery-static.test.js`,
 * 2-core machine): a SIGKILLed member leaves every watcher's list after
 * 43-994 ms (median 641); a frozen one (SIGSTOP: the probe times out) after
 * ~1.45 s; a clean leave after 224-851 ms. Bound: interval + timeout.
 */
import type { Discovery, Logger, Member } from '../discovery.js';
import { warningsToStderr } from '../discovery.js';
import { TroupeError } from '../../../protocol/errors.js';
import { MemberList, validateMember } from '../member-list.js';
import { ReadyGate } from '../ready-gate.js';
import { intOption, objectOption, stringOption } from '../options.js';
import { sleep } from '../sleep.js';
import { probeHealth } from './health-probe.js';
import { checkUnique, parsePeers } from './peers.js';

export interface StaticProbeOptions {
  /** Path probed on each member's gateway port. Default `/health/ready`. */
  readonly path?: string;
  /** Time between the starts of two probe rounds. Default 1000 ms. */
  readonly intervalMs?: number;
  /** Deadline for one probe (connect + answer). Default 500 ms; must be below `intervalMs`. */
  readonly timeoutMs?: number;
  /** Consecutive failed probes before a member is dropped. Default 1 (like a Consul HTTP check). */
  readonly failuresBeforeDown?: number;
  /** Consecutive good probes before a dropped member is back. Default 1. */
  readonly successesBeforeUp?: number;
}

export interface StaticDiscoveryOptions {
  /** The peers, as a `--peers` string (see `peers.ts`) or parsed. May name self; self is recognised by id or host:port. */
  readonly peers: string | readonly Member[];
  /** Health probing; `false` trusts the list (no failover). Default: probing with the defaults above. */
  readonly probe?: StaticProbeOptions | false;
  /** How long `start()` waits for self's own probe to pass. Default 10000 ms. */
  readonly readyTimeoutMs?: number;
  /** The runtime's structured logger; default: warnings and errors on stderr. */
  readonly logger?: Logger;
}

interface Probe {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly failuresBeforeDown: number;
  readonly successesBeforeUp: number;
}

interface PeerState {
  readonly member: Member;
  readonly self: boolean;
  up: boolean;
  failures: number;
  successes: number;
}

function checkOptions(options: StaticDiscoveryOptions) {
  const o = objectOption(options, 'static discovery options');
  if (o.peers === undefined) throw new TypeError('static discovery needs peers, e.g. "n1@10.0.0.1:8080/8081,n2@10.0.0.2:8080/8081"');
  const peers = typeof o.peers === 'string' ? parsePeers(o.peers) : o.peers.map((p, i) => validateMember(p, `peers[${i}]`));
  checkUnique(peers);
  let probe: Probe | false = false;
  if (o.probe !== false) {
    const p = objectOption(o.probe, 'probe');
    const intervalMs = intOption(p.intervalMs, 'probe.intervalMs', 1000, 50, 600_000);
    probe = Object.freeze({
      path: stringOption(p.path, 'probe.path', '/health/ready', /^\/\S*$/),
      intervalMs,
      timeoutMs: intOption(p.timeoutMs, 'probe.timeoutMs', Math.min(500, intervalMs - 1), 1, intervalMs - 1),
      failuresBeforeDown: intOption(p.failuresBeforeDown, 'probe.failuresBeforeDown', 1, 1, 100),
      successesBeforeUp: intOption(p.successesBeforeUp, 'probe.successesBeforeUp', 1, 1, 100),
    });
  }
  return Object.freeze({
    peers,
    probe,
    readyTimeoutMs: intOption(o.readyTimeoutMs, 'readyTimeoutMs', 10_000, 1, 3_600_000),
    logger: o.logger,
  });
}

export class StaticDiscovery implements Discovery {
  readonly engine = 'static';
  readonly #options: ReturnType<typeof checkOptions>;
  readonly #list: MemberList;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #self: Member | undefined;
  #states: PeerState[] = [];
  #left = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  #loop: Promise<void> | undefined;
  readonly #ready = new ReadyGate();

  constructor(options: StaticDiscoveryOptions) {
    this.#options = checkOptions(options);
    this.#log = this.#options.logger ?? warningsToStderr(() => this.#self?.id);
    this.#list = new MemberList(this.#log);
  }

  async start(self: Member): Promise<void> {
    if (this.#self !== undefined) throw new Error('discovery already started; create a new one to start again');
    if (this.#closed) throw new Error('discovery is closed');
    const me = validateMember(self, 'self');
    this.#self = me;
    const others = this.#options.peers.filter((p) => p.id !== me.id && !(p.address === me.address && p.port === me.port));
    checkUnique([me, ...others]);
    const probing = this.#options.probe !== false;
    this.#states = [me, ...others].map((member) => ({ member, self: member === me, up: !probing, failures: 0, successes: 0 }));
    const probe = this.#options.probe;
    if (probe === false) {
      this.#publish();
      return;
    }
    const began = performance.now();
    this.#loop = this.#run(probe);
    const outcome = await this.#ready.wait(this.#options.readyTimeoutMs);
    if (outcome === 'closed') throw new TroupeError('E_UNAVAILABLE', 'static discovery: closed before it started');
    if (outcome === 'timeout') {
      await this.close();
      const url = `http://${me.address.includes(':') ? `[${me.address}]` : me.address}:${me.port}${probe.path}`;
      throw new TroupeError('E_UNAVAILABLE', `static discovery: this node's own health probe (${url}) did not pass within ${this.#options.readyTimeoutMs} ms; is the gateway listening on that address?`);
    }
    this.#log.log('info', 'static.started', { peers: this.#states.length, members: this.#list.current.length, ms: Math.round(performance.now() - began) });
  }

  /** Static members do not expire: membership is never withdrawn from under a node. */
  readonly leaseMs = 0;

  confirmedUntil(): number {
    return Infinity;
  }

  members(): readonly Member[] {
    return this.#list.current;
  }

  onChange(listener: (members: readonly Member[]) => void): () => void {
    return this.#list.subscribe(listener);
  }

  async leave(): Promise<void> {
    if (this.#left || this.#self === undefined) return;
    this.#left = true;
    this.#publish();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // Listeners hear nothing from here on; #publish() checks #closed.
    this.#list.clear();
    this.#closed = true;
    this.#left = true;
    this.#ready.abandon();
    this.#abort.abort();
    await this.#loop;
  }

  async #run(probe: Probe): Promise<void> {
    const signal = this.#abort.signal;
    while (!this.#closed) {
      const began = performance.now();
      const targets = this.#states.filter((s) => !(s.self && this.#left));
      const results = await Promise.all(
        targets.map((s) => probeHealth(s.member.address, s.member.port, probe.path, probe.timeoutMs, signal)),
      );
      if (this.#closed) return;
      targets.forEach((s, i) => this.#record(s, results[i], probe));
      this.#publish();
      await sleep(Math.max(0, probe.intervalMs - (performance.now() - began)), signal);
    }
  }

  #record(state: PeerState, ok: boolean, probe: Probe): void {
    if (ok) {
      state.failures = 0;
      state.successes += 1;
      if (!state.up && state.successes >= probe.successesBeforeUp) {
        state.up = true;
        this.#log.log('info', 'static.member_up', { member: state.member.id });
      }
    } else {
      state.successes = 0;
      state.failures += 1;
      if (state.up && state.failures >= probe.failuresBeforeDown) {
        state.up = false;
        this.#log.log('warn', 'static.member_down', { member: state.member.id, failures: state.failures });
      }
    }
  }

  #publish(): void {
    if (this.#closed) return;
    const live = this.#states.filter((s) => s.up && !(s.self && this.#left)).map((s) => s.member);
    this.#list.set(live);
    if (this.#ready.waiting && live.some((m) => m === this.#self)) this.#ready.open();
  }
}
