/**
 * Consul discovery: each node registers itself as service `troupe` with its
 * local agent and watches the passing instances with blocking queries.
 *
 * Health, two checks per node:
 * - a TTL check (default 2 s) this process passes every `passIntervalMs`:
 *   catches a hung or dead process, and an agent that lost our registration;
 * - an HTTP check of `GET /health/ready` on the gateway (interval 1 s, timeout
 *   500 ms): catches a crash within about one interval, and a node that is
 *   draining or not ready yet.
 * Membership is read from `health.service({ passing: true })`, never from the
 * catalog: `DeregisterCriticalServiceAfter` (1 m) is only clean-up.
 *
 * Fencing (`confirmedUntil`) trusts only the Consul servers: after each TTL
 * pass the node asks, through its agent, which instances the servers count
 * passing, and is confirmed from the time that question was sent only when
 * it is among them and they are the members this node's watch shows. A TTL
 * pass alone is not enough: a client agent cut off from the servers with its
 * node (or left behind by them) still accepts the passes locally, while the
 * servers have already counted the node gone and its shards moved to others.
 * The member check bounds how far behind the servers this node's view can be
 * while it serves: a node whose watch lags (a slow agent, a busy machine)
 * would otherwise keep serving shards the others already took over. So any
 * change the servers made before a confirmation was sent is in the view of a
 * node that is confirmed, and a node that gains shards waits one lease (see
 * cluster/shard-handoff.ts) before serving them.
 *
 * Traps handled here (measured on Consul 1.8.7, see CONSUL-NOTES.md):
 * - After an agent restart the new agent's index is lower than ours, and a
 *   blocking query with the old index stays blind until `wait` runs out. We
 *   keep `wait` short (2 s), reset the index on any error and whenever it goes
 *   backwards.
 * - A restarted dev agent has forgotten our service: the TTL pass then fails
 *   with 'does not have associated TTL' (HTTP 500) or 404, and we register again.
 * - TTL checks start critical: we pass once right after registering.
 *
 * Measured with the defaults on Consul 1.8.7, one dev agent, 2 cores
 * (`TROUPE_DISCOVERY_RUNS=12 node --test dist/test/discovery-consul.test.js`):
 * a SIGKILLed member leaves every watcher's list after 37-996 ms (median 634:
 * the HTTP check); a frozen one (SIGSTOP) after ~1.5 s (HTTP timeout); with the
 * HTTP check off, after 1.6-1.9 s (TTL); a clean leave after 5-25 ms. After an
 * agent restart (itself 0.7-0.9 s) every registration passes again ~1.9 s
 * after the restart began: next TTL pass fails, register, HTTP check stagger.
 */
import { EventEmitter } from 'node:events';
import Consul from 'consul';
import type { Discovery, Logger, Member } from '../discovery.js';
import { warningsToStderr } from '../discovery.js';
import { TroupeError } from '../../../protocol/errors.js';
import { MemberList, validateMember } from '../member-list.js';
import { ReadyGate } from '../ready-gate.js';
import { sleep } from '../sleep.js';
import { checkConsulOptions, type ConsulDiscoveryOptions, type ConsulSettings } from './consul-options.js';
import { toMember, type HealthEntry } from './entries.js';

export type { ConsulDiscoveryOptions } from './consul-options.js';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { response?: { statusCode?: unknown } } | null)?.response?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * The share of the TTL one pass confirms this node for (see `leaseMs`): with
 * the defaults (TTL 2 s, a pass every 500 ms) a healthy node is confirmed
 * 1-1.5 s ahead, and one that stops passing fences itself 0.5 s before Consul
 * can count its TTL missed.
 */
const LEASE_SHARE_OF_TTL = 0.75;

/** The agent no longer knows our TTL check: it restarted with empty state, or someone deregistered us. */
function lostRegistration(err: unknown): boolean {
  const status = statusOf(err);
  return status === 404 || (status === 500 && /does not have associated TTL|unknown check/i.test(message(err)));
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((id) => set.has(id));
}

function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}


/** How long the servers may answer without this node, while its agent takes its passes, before it registers again. */
const REREGISTER_AFTER_MS = 3_000;

export class ConsulDiscovery implements Discovery {
  readonly engine = 'consul';
  readonly #o: ConsulSettings;
  readonly #consul: Consul;
  readonly #list: MemberList;
  readonly #log: Logger;
  /** Ends the watch loop's pauses (close). */
  readonly #abort = new AbortController();
  /** Ends the TTL pass loop's pauses (leave or close). */
  readonly #passAbort = new AbortController();
  /** papi aborts every request that carries this emitter when it emits 'cancel'. */
  readonly #cancel = new EventEmitter();
  /** Same, and asks the client for `[response, body]` so the watch can read X-Consul-Index. */
  readonly #watchCtx = Object.assign(new EventEmitter(), { includeResponse: true });
  #self: Member | undefined;
  #ttlCheckId = '';
  #registered = false;
  #left = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  #watch: Promise<void> | undefined;
  #passer: Promise<void> | undefined;
  readonly #ready = new ReadyGate();
  #agentDown = false;
  readonly #malformed = new Set<string>();
  /** When the last question the servers answered with this node passing was sent. */
  #lastConfirmedSent = 0;
  #unconfirmed = false;
  /** Since when the servers answer without this node while its agent takes its passes (0: they list it). */
  #missingOnServersSince = 0;
  /**
   * A share of the TTL: Consul counts a member gone TTL after it received the
   * last pass, so a node that stops at its last pass + this share has stopped
   * before anyone can have taken its shards for a missed TTL.
   */
  readonly leaseMs: number;

  constructor(options?: ConsulDiscoveryOptions) {
    this.#o = checkConsulOptions(options);
    const u = this.#o.url;
    this.#consul = new Consul({
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port === '' ? (u.protocol === 'https:' ? 443 : 80) : Number(u.port),
      secure: u.protocol === 'https:',
      ...(this.#o.token === undefined ? {} : { defaults: { token: this.#o.token } }),
    });
    this.#log = this.#o.logger ?? warningsToStderr(() => this.#self?.id);
    this.leaseMs = Math.round(this.#o.ttlMs * LEASE_SHARE_OF_TTL);
    this.#list = new MemberList(this.#log);
    this.#cancel.setMaxListeners(0);
    this.#watchCtx.setMaxListeners(0);
  }

  async start(self: Member): Promise<void> {
    if (this.#self !== undefined) throw new Error('discovery already started; create a new one to start again');
    if (this.#closing !== undefined) throw new Error('discovery is closed');
    const me = validateMember(self, 'self');
    this.#self = me;
    this.#ttlCheckId = `${this.#o.serviceName}:${me.id}:ttl`;
    try {
      await this.#register();
    } catch (err) {
      await this.close();
      throw new TroupeError('E_UNAVAILABLE', `consul discovery: cannot register with the agent at ${this.#o.url.origin} (${message(err)}); is the agent running?`, { cause: err });
    }
    this.#watch = this.#watchLoop();
    this.#passer = this.#passLoop();
    const began = performance.now();
    this.#log.log('info', 'consul.registering', { agent: this.#o.url.origin, service: this.#o.serviceName, id: me.id });
    const outcome = await this.#ready.wait(this.#o.readyTimeoutMs);
    if (outcome === 'closed') throw new TroupeError('E_UNAVAILABLE', 'consul discovery: closed before it started');
    if (outcome === 'timeout') {
      await this.close();
      const check = this.#o.httpCheck === false ? '' : ` and that the agent can reach http://${hostPort(me.address, me.port)}${this.#o.httpCheck.path}`;
      throw new TroupeError('E_UNAVAILABLE', `consul discovery: this node did not become passing in Consul within ${this.#o.readyTimeoutMs} ms; check the agent's log${check}`);
    }
    this.#log.log('info', 'consul.started', { members: this.#list.current.length, ms: Math.round(performance.now() - began) });
  }

  members(): readonly Member[] {
    return this.#list.current;
  }

  confirmedUntil(): number {
    return this.#lastConfirmedSent === 0 ? 0 : this.#lastConfirmedSent + this.leaseMs;
  }

  /** Passes the TTL check with the local agent. */
  async #pass(): Promise<void> {
    await this.#consul.agent.check.pass(this.#request({ id: this.#ttlCheckId }));
  }

  /**
   * Asks the servers (a default-consistency read, answered by the leader, not
   * the agent) whether they count this node passing; if so it is confirmed
   * until the time the question was sent plus the lease: the servers cannot
   * have counted it gone before they answered.
   */
  async #confirm(): Promise<void> {
    const sent = Date.now();
    let passing = false;
    try {
      const entries = (await this.#consul.health.service(this.#request({ service: this.#o.serviceName, passing: true }))) as unknown as HealthEntry[];
      const ids = Array.isArray(entries) ? entries.map((e) => toMember(e)).filter((m): m is Member => typeof m !== 'string').map((m) => m.id) : [];
      passing = ids.includes(this.#self?.id ?? '');
      if (!passing) {
        this.#notConfirmed('the servers do not count this node passing');
        await this.#registerAgainIfServersForgot(sent);
      } else if (!sameIds(ids, this.#list.current.map((m) => m.id))) {
        this.#missingOnServersSince = 0;
        // The watch has not caught up with the servers yet (it usually does within milliseconds): not confirmed this time.
        passing = false;
        this.#notConfirmed(`the servers list ${ids.length} members, this node's view ${this.#list.current.length}`);
      }
    } catch (err) {
      this.#notConfirmed(`the servers did not answer through the agent: ${message(err)}`);
    }
    if (!passing) return;
    this.#missingOnServersSince = 0;
    if (sent > this.#lastConfirmedSent) this.#lastConfirmedSent = sent;
    if (this.#unconfirmed) {
      this.#unconfirmed = false;
      this.#log.log('info', 'consul.confirmed', {});
    }
  }

  /**
   * Servers that restarted without their state (a dev server, a lost data
   * folder) no longer know this node, while its agent still holds the
   * registration and takes the passes; the agent tells the servers again only
   * at its next anti-entropy sync, which can be a minute away. Registering
   * again makes it sync at once, so the node is confirmed again promptly.
   */
  async #registerAgainIfServersForgot(now: number): Promise<void> {
    if (this.#missingOnServersSince === 0) {
      this.#missingOnServersSince = now;
      return;
    }
    if (now - this.#missingOnServersSince < REREGISTER_AFTER_MS || this.#left) return;
    this.#missingOnServersSince = 0;
    try {
      // Only when they do not know it at all: a node they list as critical (a failing check) is theirs to judge.
      const all = (await this.#consul.health.service(this.#request({ service: this.#o.serviceName }))) as unknown as HealthEntry[];
      const known = Array.isArray(all) && all.some((e) => { const m = toMember(e); return typeof m !== 'string' && m.id === this.#self?.id; });
      if (known || this.#left) return;
      await this.#register();
      this.#log.log('warn', 'consul.reregistered', { reason: `the servers have not listed this node for ${REREGISTER_AFTER_MS} ms while its agent takes its passes` });
    } catch (err) {
      this.#agentLost(err);
    }
  }

  #notConfirmed(reason: string): void {
    // Not yet confirmed once (start-up: the agent is still telling the servers about the first pass): nothing to report.
    if (this.#unconfirmed || this.#lastConfirmedSent === 0) return;
    this.#unconfirmed = true;
    this.#log.log('warn', 'consul.unconfirmed', { reason });
  }

  onChange(listener: (members: readonly Member[]) => void): () => void {
    return this.#list.subscribe(listener);
  }

  async leave(): Promise<void> {
    if (this.#left || this.#self === undefined) return;
    this.#left = true;
    // Drop self locally first: from now on this node must not place anything on itself.
    this.#list.set(this.#list.current.filter((m) => m.id !== this.#self?.id));
    this.#passAbort.abort();
    await this.#passer;
    await this.#deregister();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // Listeners hear nothing from here on, not even this node's own leave.
    this.#list.clear();
    this.#left = true;
    this.#ready.abandon();
    this.#passAbort.abort();
    this.#abort.abort();
    await this.#passer;
    // Deregister before cancelling requests: it is the one request close() still needs.
    try {
      await this.#deregister();
    } catch (err) {
      this.#log.log('warn', 'consul.deregister_failed', { error: message(err) });
    }
    this.#closed = true;
    this.#cancel.emit('cancel');
    this.#watchCtx.emit('cancel');
    await this.#watch;
    this.#consul.destroy();
  }

  #request<T extends object>(extra: T): T & { timeout: number; ctx: EventEmitter } {
    return { ...extra, timeout: this.#o.requestTimeoutMs, ctx: this.#cancel };
  }

  async #register(): Promise<void> {
    const me = this.#self!;
    const o = this.#o;
    const deregisterAfter = `${o.deregisterCriticalAfterMs}ms`;
    const http = o.httpCheck;
    await this.#consul.agent.service.register(this.#request({
      name: o.serviceName,
      id: me.id,
      address: me.address,
      port: me.port,
      meta: { ...me.meta, linkPort: String(me.linkPort), ...(me.zone === undefined ? {} : { zone: me.zone }) },
      checks: [
        // The client's typings demand a timeout on every check; Consul ignores it on TTL checks.
        { checkid: this.#ttlCheckId, name: 'troupe process alive', ttl: `${o.ttlMs}ms`, timeout: `${o.ttlMs}ms`, deregistercriticalserviceafter: deregisterAfter },
        ...(http === false ? [] : [{
          checkid: `${o.serviceName}:${me.id}:http`,
          name: 'troupe gateway ready',
          http: `http://${hostPort(me.address, me.port)}${http.path}`,
          interval: `${http.intervalMs}ms`,
          timeout: `${http.timeoutMs}ms`,
          deregistercriticalserviceafter: deregisterAfter,
        }]),
      ],
    }));
    this.#registered = true;
    // TTL checks start critical; pass at once so the node is not held back a full pass interval.
    await this.#pass();
    await this.#confirm();
  }

  async #deregister(): Promise<void> {
    if (!this.#registered) return;
    this.#registered = false;
    await this.#consul.agent.service.deregister(this.#request({ id: this.#self!.id }));
  }

  /** Passes the TTL check until leave/close; registers again when the agent forgot us. */
  async #passLoop(): Promise<void> {
    const signal = this.#passAbort.signal;
    while (!this.#left) {
      await sleep(this.#o.passIntervalMs, signal);
      if (this.#left) return;
      try {
        await this.#pass();
        this.#agentUp();
      } catch (err) {
        if (this.#left) return;
        if (lostRegistration(err)) {
          try {
            await this.#register();
            this.#log.log('warn', 'consul.reregistered', { reason: message(err) });
            this.#agentUp();
          } catch (again) {
            this.#agentLost(again);
            continue;
          }
        } else {
          this.#agentLost(err);
          continue;
        }
      }
      if (this.#left) return;
      await this.#confirm();
    }
  }

  /** Follows the passing instances with blocking queries until close. */
  async #watchLoop(): Promise<void> {
    const signal = this.#abort.signal;
    const o = this.#o;
    let index = 0n;
    let backoff = 100;
    while (!this.#closed) {
      const asked = index;
      try {
        // Not a fresh literal on purpose: the client's typings omit index, wait, timeout and ctx, which it does send.
        const query = {
          service: o.serviceName,
          passing: true,
          index: asked.toString(),
          wait: `${o.watchWaitMs}ms`,
          // Consul adds up to wait/16 of jitter; allow that plus one request deadline.
          timeout: o.watchWaitMs + Math.ceil(o.watchWaitMs / 16) + o.requestTimeoutMs,
          ctx: this.#watchCtx,
        };
        // With ctx.includeResponse the client resolves to [response, body].
        const [res, body] = (await this.#consul.health.service(query)) as unknown as [{ headers: Record<string, string | undefined> }, HealthEntry[]];
        if (this.#closed) return;
        const header = res.headers['x-consul-index'];
        const next = header !== undefined && /^\d+$/.test(header) ? BigInt(header) : 0n;
        if (next === 0n) {
          // Consul's rule: never block on index 0 from a bad header; ask again plainly after a pause.
          index = 0n;
          await sleep(backoff, signal);
          backoff = Math.min(backoff * 2, o.retryMaxMs);
        } else if (next < asked) {
          // The agent restarted (or a server failed over): its index is lower than ours. This
          // answer is current, so apply it, and start again from 0 so the next query cannot block blind.
          index = 0n;
          this.#log.log('info', 'consul.index_reset', { from: asked.toString(), to: next.toString() });
        } else {
          index = next;
          backoff = 100;
        }
        this.#agentUp();
        this.#apply(Array.isArray(body) ? body : []);
      } catch (err) {
        if (this.#closed) return;
        index = 0n;
        this.#agentLost(err);
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, o.retryMaxMs);
      }
    }
  }

  #apply(entries: readonly HealthEntry[]): void {
    if (this.#closing !== undefined) return;
    const members: Member[] = [];
    for (const entry of entries) {
      const parsed = toMember(entry);
      if (typeof parsed === 'string') {
        const id = String(entry?.Service?.ID);
        if (!this.#malformed.has(id)) {
          this.#malformed.add(id);
          this.#log.log('warn', 'consul.malformed_member', { member: id, reason: parsed });
        }
        continue;
      }
      if (this.#left && parsed.id === this.#self?.id) continue;
      members.push(parsed);
    }
    this.#list.set(members);
    if (this.#ready.waiting && members.some((m) => m.id === this.#self?.id)) this.#ready.open();
  }

  #agentLost(err: unknown): void {
    if (this.#agentDown) return;
    this.#agentDown = true;
    this.#log.log('warn', 'consul.agent_unreachable', { agent: this.#o.url.origin, error: message(err) });
  }

  #agentUp(): void {
    if (!this.#agentDown) return;
    this.#agentDown = false;
    this.#log.log('info', 'consul.agent_back', { agent: this.#o.url.origin });
  }
}
