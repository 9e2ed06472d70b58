/**
 * A Troupe node: composes the grid, the turn pool, the scheduler, the router
 * and the gateway, and owns their start and stop order. A node is a plain
 * object: tests start several in one process.
 */
import { createGrid, type Grid, type GridLockHandle } from '../grid/index.js';
import { TroupeError } from '../protocol/errors.js';
import { ActorRegistry } from './actor-registry.js';
import type { NodeConfig } from './config.js';
import { DeadlineWheel, type Expirable } from './deadline-wheel.js';
import { DISCARD, type ReplySink } from './envelope.js';
import { Gateway } from './gateway/gateway.js';
import { jwtAuthenticator, openAccess } from './gateway/auth.js';
import type { Readiness } from './gateway/http-routes.js';
import { GroupCommitter } from './group-committer.js';
import { createLogger, type Logger } from './log.js';
import { NodeMetrics } from './metrics/node-metrics.js';
import type { GridOp, OutgoingEvent, OutgoingTell, TurnResult, UpMessage } from './pool/protocol.js';
import { TurnPool } from './pool/turn-pool.js';
import { Router } from './router.js';
import { TopicHub } from './topics.js';
import { TurnScheduler } from './turn-scheduler.js';
import { SagaResumer } from './saga-resumer.js';
import { Bulkheads, type Bulkhead, type BulkheadSpec } from './bulkheads.js';
import { Cluster } from './cluster/cluster.js';
import { createDiscovery, type Member } from './discovery/index.js';
import { createTransport, type Transport } from './transport/index.js';
import { DEFAULT_GRID_BREAKER, GuardedGrid, type BreakerState } from './resilience/guarded-grid.js';
import { TypeBreakers } from './resilience/type-breakers.js';

export interface NodeOptions {
  /** Replaces the JSON-lines logger (tests pass a silent one). */
  readonly logger?: Logger;
  /** A grid to use instead of building one from the configuration (tests share one between nodes). */
  readonly grid?: Grid;
}

/** Settles a promise from an envelope's answer: for calls made by workers. */
class PromiseSink implements ReplySink {
  constructor(private readonly resolve: (v: unknown) => void, private readonly reject: (e: unknown) => void) {}
  deliver(_id: number | string, result: TurnResult): void {
    if (result[0] === 1) this.resolve(result[1]);
    else this.reject(TroupeError.fromData(result[1]));
  }
}

export class TroupeNode {
  readonly log: Logger;
  private grid!: GuardedGrid;
  private bulkheads!: Bulkheads;
  private gateway!: Gateway;
  private wheel!: DeadlineWheel<Expirable>;
  readonly topics = new TopicHub(() => this.cluster?.interestChanged());
  private cluster: Cluster | null = null;
  private sagas: SagaResumer | null = null;
  private typeBreakers: TypeBreakers | null = null;
  private transport: Transport | null = null;
  metrics!: NodeMetrics;
  router!: Router;
  private readonly locks = new Map<number, GridLockHandle>();
  private nextLock = 1;
  private state: 'new' | 'starting' | 'running' | 'draining' | 'stopped' = 'new';

  private constructor(readonly config: NodeConfig, private readonly options: NodeOptions) {
    this.log = options.logger ?? createLogger(config.nodeId, config.logLevel);
  }

  /** Builds and starts a node; rejects with a clear message if any part cannot start. */
  static async start(config: NodeConfig, options: NodeOptions = {}): Promise<TroupeNode> {
    const node = new TroupeNode(config, options);
    try {
      await node.startParts();
    } catch (err) {
      await node.stop().catch(() => {});
      throw err;
    }
    return node;
  }

  private async startParts(): Promise<void> {
    const c = this.config;
    this.state = 'starting';
    if (c.actors.length === 0) throw new Error('no actor modules given: pass --actors path/to/actors.js (or TROUPE_ACTORS)');
    const registry = await ActorRegistry.load(c.actors);
    this.log.log('info', 'actors_loaded', { types: registry.names() });
    const grid = this.options.grid ?? (await createGrid(c.grid));
    this.grid = new GuardedGrid(grid, DEFAULT_GRID_BREAKER, (state) => this.log.log(state === 'closed' ? 'info' : 'warn', 'grid_breaker', { state }));
    await this.grid.start();
    this.log.log('info', 'grid_ready', { engine: this.grid.engine });
    this.wheel = new DeadlineWheel<Expirable>();
    this.metrics = new NodeMetrics(c.nodeId, {
      queuedTurns: () => this.bulkheads?.queued ?? 0,
      activeActors: () => this.bulkheads?.activeActors ?? 0,
      inflightGroups: () => this.bulkheads?.inflightGroups ?? 0,
      connections: () => this.gateway?.connectionCount ?? 0,
      pools: () => this.bulkheads?.all.map((b) => ({ name: b.name, ...b.pool.stats() })) ?? [],
      breakers: () => this.breakerStates(),
    });
    const committer = new GroupCommitter(this.grid, c.commitWindowMs);
    this.typeBreakers = new TypeBreakers((type, state) => this.log.log(state === 'closed' ? 'info' : 'warn', 'actor_breaker', { type, state }));
    const groupOf = new Map<string, string>();
    const specs: BulkheadSpec[] = [{ name: 'default', types: [], maxThreads: c.maxThreads, minThreads: c.minThreads, maxQueued: c.maxQueued }, ...c.bulkheads];
    for (const spec of c.bulkheads) {
      for (const type of spec.types) {
        if (registry.get(type) === undefined) throw new Error(`bulkhead '${spec.name}' names actor type '${type}', which no --actors module exports`);
        groupOf.set(type, spec.name);
      }
    }
    const built: Bulkhead[] = [];
    for (const spec of specs) {
      let scheduler: TurnScheduler | undefined;
      const pool = new TurnPool(
        {
          name: `${c.nodeId}:${spec.name}`,
          modules: c.actors,
          minThreads: spec.minThreads,
          maxThreads: spec.maxThreads,
          callTimeoutMs: c.callTimeoutMs,
          idem: { max: c.idemMax, ttlMs: c.idemTtlMs, minAgeMs: c.idemMinAgeMs, hardMax: 16 * c.idemMax },
        },
        {
          call: (msg) => this.workerCall(msg),
          grid: (op, name, args) => this.workerGrid(op, name, args),
          deferredResult: (result) => scheduler!.deferredResult(result),
        },
      );
      scheduler = new TurnScheduler({
        grid: this.grid,
        committer,
        pool,
        turnsPerActorBatch: c.turnsPerActorBatch,
        maxQueued: spec.maxQueued,
        idleMs: c.idleMs,
        isLocal: (type, key) => this.cluster === null || this.cluster.isLocal(type, key),
        reroute: (envs) => {
          for (const env of envs) this.router.reroute(env);
        },
        onTells: (tells) => this.sendTells(tells),
        onEvents: (events) => this.publishEvents(events),
        log: (level, event, fields) => this.log.log(level, event, { bulkhead: spec.name, ...fields }),
        breakers: this.typeBreakers,
      });
      built.push({ name: spec.name, pool, scheduler });
    }
    this.bulkheads = new Bulkheads(built, groupOf);
    this.router = new Router(registry, this.bulkheads, this.wheel, this.metrics, c.callTimeoutMs);
    this.gateway = new Gateway({
      host: c.host,
      port: c.port,
      maxFrame: c.maxFrame,
      maxBatch: c.maxBatch,
      maxInflight: c.maxInflight,
      maxConnections: c.maxConnections,
      rateLimit: c.rateLimit,
      router: this.router,
      topics: this.topics,
      metrics: this.metrics,
      log: this.log,
      readiness: () => this.readiness(),
      auth: c.authSecret === null ? openAccess : jwtAuthenticator(c.authSecret),
    });
    this.sagas = new SagaResumer({
      journal: (name) => this.grid.map(name),
      isLocal: (type, key) => this.cluster === null || this.cluster.isLocal(type, key),
      call: (req, sink, id) => this.router.call(req, sink, id),
      log: this.log,
      intervalMs: c.sagaScanMs,
      staleMs: c.sagaStaleMs,
    });
    const port = await this.gateway.listen();
    this.state = 'running';
    this.log.log('info', 'listening', { host: c.host, port, ws: `ws://${c.host}:${port}/v1/ws`, http: `http://${c.host}:${port}` });
    if (c.cluster.discovery !== 'none') await this.joinCluster(port);
  }

  /**
   * Cluster mode: open the link port, register with discovery and take the
   * member list. Runs after the gateway is up because discovery's health
   * check calls /health/ready.
   */
  private async joinCluster(port: number): Promise<void> {
    const c = this.config;
    const cc = c.cluster;
    const engine = cc.discovery;
    if (engine === 'none') return;
    const transport = await createTransport('tcp', {
      nodeId: c.nodeId,
      secret: cc.secret,
      maxFrame: c.maxFrame,
      log: (level, event, fields) => this.log.log(level, event, fields),
    });
    this.transport = transport;
    const linkPort = await transport.listen(c.host, cc.linkPort === -1 ? (port === 0 ? 0 : port + 1) : cc.linkPort);
    const discovery = await createDiscovery({
      engine,
      logger: this.log,
      ...(cc.discovery === 'static' ? { static: { peers: cc.peers } } : {}),
      ...(cc.discovery === 'consul' ? { consul: { agentUrl: cc.consulUrl, ttlMs: cc.consulTtlMs } } : {}),
    });
    const self: Member = { id: c.nodeId, address: cc.advertise, port, linkPort, ...(cc.zone === '' ? {} : { zone: cc.zone }) };
    this.cluster = new Cluster({
      self,
      discovery,
      transport,
      wheel: this.wheel,
      log: this.log,
      limboMs: 10_000,
      host: {
        // While draining this node owns nothing: calls peers still send here go on to the owner.
        callLocal: (req, sink, id) => (this.state === 'draining' ? this.router.call(req, sink, id) : this.router.callLocal(req, sink, id)),
        route: (req, sink, id) => this.router.call(req, sink, id),
        ownershipChanged: () => this.bulkheads.ownershipChanged(),
        deliverEvent: (topic, data) => void this.topics.publish(topic, data),
        localTopics: () => this.topics.topicNames(),
      },
    });
    this.router.remote = this.cluster;
    await this.cluster.start();
    this.log.log('info', 'cluster_joined', { discovery: cc.discovery, linkPort, members: this.cluster.placement.memberIds });
  }

  /** The gateway's port (useful with --port 0). */
  get port(): number {
    return this.gateway.port;
  }

  readiness(): Readiness {
    const grid = this.grid?.health() ?? { ready: false, detail: 'not started' };
    const ready = this.state === 'running' && grid.ready;
    return {
      ready,
      details: {
        node: this.config.nodeId,
        state: this.state,
        grid: { engine: this.grid?.engine, ...grid },
        breakers: Object.fromEntries(this.breakerStates().map((b) => [b.name, b.state])),
        ...(this.cluster === null ? {} : { cluster: this.cluster.summary() }),
      },
    };
  }

  /** Every circuit breaker of this node: the grid's, each peer link's, each actor type's. */
  private breakerStates(): { name: string; state: BreakerState }[] {
    const out: { name: string; state: BreakerState }[] = [];
    if (this.grid !== undefined) out.push({ name: 'grid', state: this.grid.breakerState });
    if (this.cluster !== null && this.transport !== null) {
      for (const peer of this.cluster.placement.memberIds) {
        if (peer === this.config.nodeId) continue;
        const s = this.transport.peerState(peer);
        out.push({ name: `peer:${peer}`, state: s === 'down' ? 'open' : 'closed' });
      }
    }
    if (this.typeBreakers !== null) out.push(...this.typeBreakers.states());
    return out;
  }

  private workerCall(msg: Extract<UpMessage, { k: 'call' }>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.router.call(
        { type: msg.type, key: msg.key, method: msg.method, args: msg.args, idem: msg.idem, caller: msg.caller, timeoutMs: msg.timeout },
        new PromiseSink(resolve, reject),
        0,
      );
    });
  }

  private async workerGrid(op: GridOp, name: string, args: readonly unknown[]): Promise<unknown> {
    switch (op) {
      case 'map.get': return this.grid.map(name).get(args[0] as string);
      case 'map.set': return this.grid.map(name).set(args[0] as string, args[1]);
      case 'map.delete': return this.grid.map(name).delete(args[0] as string);
      case 'map.keys': return this.grid.map(name).keys();
      case 'counter.get': return this.grid.counter(name).get();
      case 'counter.addAndGet': return this.grid.counter(name).addAndGet(args[0] as number);
      case 'lock': {
        const handle = await this.grid.lock(name, args[0] as number);
        const token = this.nextLock++;
        this.locks.set(token, handle);
        return token;
      }
      case 'unlock': {
        const token = args[0] as number;
        const handle = this.locks.get(token);
        this.locks.delete(token);
        await handle?.release();
        return true;
      }
    }
  }

  private sendTells(tells: readonly OutgoingTell[]): void {
    for (const [type, key, method, args] of tells) this.router.call({ type, key, method, args }, DISCARD, 0);
  }

  private publishEvents(events: readonly OutgoingEvent[]): void {
    for (const [topic, data] of events) {
      this.topics.publish(topic, data);
      this.cluster?.publish(topic, data);
    }
  }

  /**
   * Graceful stop: refuse new connections and calls, let the turns out finish
   * and commit (bounded by `drainMs`), then close everything.
   */
  async stop(drainMs = 5_000): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'draining';
    this.sagas?.close();
    this.gateway?.stopAccepting();
    const until = Date.now() + drainMs;
    if (this.cluster !== null && wasRunning) {
      // Give up every shard first: peers take over, and mail queued here moves to them.
      await this.cluster.leave().catch((err: unknown) => this.log.log('warn', 'leave_failed', { error: (err as Error).message }));
      this.log.log('info', 'draining', { forwardedInflight: this.cluster.inflight, queued: this.bulkheads.queued });
    }
    if (wasRunning) await this.bulkheads.drain(Math.max(0, until - Date.now()));
    // Calls this node's clients sent on to other nodes: wait for their answers before closing the clients.
    while (this.cluster !== null && this.cluster.inflight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    this.bulkheads?.close();
    await this.gateway?.close();
    await this.cluster?.close();
    if (this.cluster === null) await this.transport?.close();
    this.wheel?.close();
    await this.bulkheads?.closePools();
    this.typeBreakers?.close();
    for (const handle of this.locks.values()) await handle.release().catch(() => {});
    // A grid handed in by the caller is the caller's to close.
    if (this.options.grid === undefined) await this.grid?.close();
    this.state = 'stopped';
    this.log.log('info', 'stopped', {});
  }
}

