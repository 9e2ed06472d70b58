/**
 * A Troupe node: composes the grid, the turn pool, the scheduler, the router
 * and the gateway, and owns their start and stop order. A node is a plain
 * object: tests start several in one process.
 */
import { latencyBudget, TRACE_LATENCY } from './metrics/latency-trace.js';
import { createGrid, type Grid } from '../grid/index.js';
import { WorkerGrid } from './worker-grid.js';
import { TroupeError } from '../protocol/errors.js';
import { ActorRegistry } from './actor-registry.js';
import type { NodeConfig } from './config.js';
import { DeadlineWheel, type Expirable } from './deadline-wheel.js';
import type { ReplySink } from './envelope.js';
import { loadNativeUws } from './gateway/native-uws.js';
import { Gateway } from './gateway/gateway.js';
import { jwtAuthenticator, openAccess } from './gateway/auth.js';
import type { Readiness } from './gateway/http-routes.js';
import { GroupCommitter } from './group-committer.js';
import { createLogger, type Logger } from './log.js';
import { NodeMetrics } from './metrics/node-metrics.js';
import type { OutgoingEvent, TurnResult, UpMessage } from './pool/protocol.js';
import { Wakeups } from './reminders/wakeups.js';
import { randomBytes } from 'node:crypto';
import { TurnPool } from './pool/turn-pool.js';
import { Router, type CallRequest } from './router.js';
import { TopicHub } from './topics.js';
import { TurnScheduler } from './turn-scheduler.js';
import { SagaResumer } from './saga-resumer.js';
import { Bulkheads, type Bulkhead, type BulkheadSpec } from './bulkheads.js';
import { Cluster } from './cluster/cluster.js';
import { createDiscovery, type Member } from './discovery/index.js';
import { createTransport, type Transport } from './transport/index.js';
import { DEFAULT_GRID_BREAKER, GuardedGrid, type BreakerState } from './resilience/guarded-grid.js';
import { TypeBreakers } from './resilience/type-breakers.js';
import { KeyQuarantine } from './resilience/key-quarantine.js';
import type { MetricsSource } from './metrics/node-metrics.js';
import { Dashboard } from './dashboard/dashboard.js';
import { EventLog } from './dashboard/event-log.js';
import { DUE_SOON_MS, type NodeStats } from './dashboard/node-stats.js';
import { peerTokens } from './dashboard/peer-token.js';
import type { CallTracer } from './tracing/call-tracer.js';
import { createStreamIntake, streamGroupId, type StreamIntake } from './streams/stream-intake.js';

/** How often a node reads its shards' wake index again, for entries other nodes wrote while views differed. */
const WAKE_RESCAN_MS = 30_000;

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
  /** Each bulkhead's own actor-type breakers: a type failing in one bulkhead never trips another's. */
  private readonly typeBreakers: TypeBreakers[] = [];
  private transport: Transport | null = null;
  metrics!: NodeMetrics;
  router!: Router;
  private wakeups: Wakeups | null = null;
  /** This process's identity in made-up keys and turn names: a restarted node is a new incarnation. */
  private readonly incarnation = randomBytes(4).toString('hex');
  private workerGrid!: WorkerGrid;
  private state: 'new' | 'starting' | 'running' | 'draining' | 'stopped' = 'new';
  private draining: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  /** Membership, failover and breaker events for the dashboard, kept from this node's own log. */
  private readonly events = new EventLog();
  private dashboard: Dashboard | null = null;
  /** `--stream` intakes: external logs whose records become calls. */
  private readonly streams: StreamIntake[] = [];
  private readonly started = Date.now();
  /** Spans and their export, with --otel-endpoint only; null: tracing off (the SDK is never loaded). */
  private tracer: CallTracer | null = null;

  private constructor(readonly config: NodeConfig, private readonly options: NodeOptions) {
    this.log = this.events.tee(options.logger ?? createLogger(config.nodeId, config.logLevel));
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
    // Before anything is started: a machine with no working uWebSockets.js build refuses at once (NativeUwsError).
    loadNativeUws();
    if (c.otelEndpoint !== null) {
      const { createOtelTracer } = await import('./tracing/otel-tracer.js');
      this.tracer = await createOtelTracer(c.otelEndpoint, c.nodeId);
      this.log.log('info', 'tracing', { endpoint: c.otelEndpoint });
    }
    const registry = await ActorRegistry.load(c.actors);
    this.log.log('info', 'actors_loaded', { types: registry.names(), ...(registry.typescript === undefined ? {} : { typescript: registry.typescript }) });
    const grid = this.options.grid ?? (await createGrid(c.grid));
    this.grid = new GuardedGrid(grid, DEFAULT_GRID_BREAKER, (state) => this.log.log(state === 'closed' ? 'info' : 'warn', 'grid_breaker', { state }));
    await this.grid.start();
    this.workerGrid = new WorkerGrid(this.grid);
    this.log.log('info', 'grid_ready', { engine: this.grid.engine });
    // The grid came back as a different cluster (every member restarted): cached records may be
    // ahead of what it restored from its store, so every actor reads its record again before its next turn.
    this.grid.onReset(() => {
      this.log.log('warn', 'grid_reset', { actors: this.bulkheads?.activeActors ?? 0 });
      this.bulkheads?.ownershipChanged();
      this.wakeups?.gridReset();
    });
    this.wheel = new DeadlineWheel<Expirable>();
    const source: MetricsSource = {
      queuedTurns: () => this.bulkheads?.queued ?? 0,
      activeActors: () => this.bulkheads?.activeActors ?? 0,
      inflightGroups: () => this.bulkheads?.inflightGroups ?? 0,
      connections: () => this.gateway?.connectionCount ?? 0,
      pools: () => this.bulkheads?.all.map((b) => ({ name: b.name, ...b.pool.stats() })) ?? [],
      outbox: () => this.bulkheads?.outboxStats() ?? { pending: 0, delivered: 0, retries: 0, undeliverable: 0 },
      reminders: () => ({ pending: this.wakeups?.pending ?? 0, fired: this.wakeups?.fired ?? 0 }),
      breakers: () => this.breakerStates(),
      ready: () => this.readiness().ready,
      streams: () => this.streams.map((s) => ({ topic: s.spec.topic, lag: s.lag(), counts: s.counts })),
    };
    this.metrics = new NodeMetrics(c.nodeId, source);
    const local = (): NodeStats => this.dashStats(source);
    this.dashboard = new Dashboard({
      selfId: c.nodeId,
      selfZone: c.cluster.zone,
      local,
      members: () => this.cluster?.members() ?? null,
      peerToken: peerTokens(c.authSecret, c.nodeId),
      events: this.events,
      log: this.log,
    });

    const wakeups = new Wakeups({
      index: this.grid.wakeIndex(),
      ownsShard: (shard) => this.cluster === null || this.cluster.placement.ownerOfShard(shard) === c.nodeId,
      wake: (type, key) => this.bulkheads.wake(type, key),
      log: this.log,
      // Only other nodes write entries this node has not seen: a single node never needs to read its index again.
      rescanMs: c.cluster.discovery === 'none' ? 0 : WAKE_RESCAN_MS,
    });
    this.wakeups = wakeups;

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
      // A committer and breakers per bulkhead: one bulkhead's grid writes or failing types never hold up another's.
      const committer = new GroupCommitter(this.grid, c.commitWindowMs, undefined, (seconds) => this.metrics.recordCommit(spec.name, seconds));
      const breakers = new TypeBreakers((type, state) => this.log.log(state === 'closed' ? 'info' : 'warn', 'actor_breaker', { bulkhead: spec.name, type, state }));
      this.typeBreakers.push(breakers);
      const quarantine = new KeyQuarantine((type, key, ms) => this.log.log('warn', 'key_quarantined', { bulkhead: spec.name, type, key, ms }));
      const pool = new TurnPool(
        {
          name: `${c.nodeId}:${spec.name}`,
          modules: c.actors,
          minThreads: spec.minThreads,
          maxThreads: spec.maxThreads,
          callTimeoutMs: c.callTimeoutMs,
          idem: { max: c.idemMax, ttlMs: c.idemTtlMs, minAgeMs: c.idemMinAgeMs, hardMax: 16 * c.idemMax },
          incarnation: this.incarnation,
        },
        {
          call: (msg) => this.workerCall(msg),
          grid: (op, name, args, thread) => this.workerGrid.serve(op, name, args, thread),
          deferredResult: (result) => scheduler!.deferredResult(result),
          deferredFailed: (group, error) => scheduler!.deferredFailed(group, error),
          threadGone: (thread) => {
            scheduler?.threadGone(thread);
            this.workerGrid.threadGone(thread);
          },
        },
      );
      scheduler = new TurnScheduler({
        grid: this.grid,
        committer,
        pool,
        wakeups,
        turnsPerActorBatch: c.turnsPerActorBatch,
        maxQueued: spec.maxQueued,
        idleMs: c.idleMs,
        callTimeoutMs: c.callTimeoutMs,
        isLocal: (type, key) => this.cluster === null || this.cluster.isLocal(type, key),
        serveDelay: (shard) => (this.cluster === null ? 0 : this.cluster.serveDelay(shard)),
        readLeaseMs: c.readLeaseMs,
        maxActivations: c.maxActivations,
        maxActivationBytes: c.maxActivationBytes,
        reroute: (envs) => {
          for (const env of envs) this.router.reroute(env);
        },
        route: (req, sink) => this.router.call(req, sink, 0),
        onEvents: (type, key, events) => this.publishEvents(type, key, events),
        log: { log: (level, event, fields) => this.log.log(level, event, { bulkhead: spec.name, ...fields }) },
        breakers,
        quarantine,
        tracer: this.tracer,
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
      limits: c.limits,
      maxInflight: c.maxInflight,
      maxConnections: c.maxConnections,
      rateLimit: c.rateLimit,
      router: this.router,
      topics: this.topics,
      metrics: this.metrics,
      log: this.log,
      readiness: () => this.readiness(),
      auth: c.authSecret === null ? openAccess : jwtAuthenticator(c.authSecret),
      allowedOrigins: c.allowedOrigins,
      dashboard: { dashboard: this.dashboard, local },
      tracer: this.tracer,
    });
    this.sagas = new SagaResumer({
      journal: (name) => this.grid.map(name, { consistent: true }),
      isLocal: (type, key) => this.cluster === null || this.cluster.isLocal(type, key),
      call: (req, sink, id) => this.router.call(req, sink, id),
      log: this.log,
      intervalMs: c.sagaScanMs,
      staleMs: c.sagaStaleMs,
    });
    await Promise.all(built.map((b) => b.pool.warm(c.callTimeoutMs)));
    const port = await this.gateway.listen();
    this.state = 'running';
    this.log.log('info', 'listening', { host: c.host, port, ws: `ws://${c.host}:${port}/v1/ws`, http: `http://${c.host}:${port}` });
    if (c.cluster.discovery !== 'none') await this.joinCluster(port);
    // Tells and reminders left in the grid (by this node's previous run, or a node that died): find them.
    wakeups.scanOwned();
    await this.startStreams(registry);
  }

  /**
   * Last, once the node takes calls and knows its cluster: each record is
   * routed like a client's call, so it must find the actor's owner.
   */
  private async startStreams(registry: ActorRegistry): Promise<void> {
    const c = this.config;
    for (const spec of c.streams) {
      const type = registry.get(spec.type);
      if (type === undefined) throw new Error(`--stream ${spec.topic}: actor type '${spec.type}' is exported by no --actors module`);
      if (!type.methods.has(spec.method)) throw new Error(`--stream ${spec.topic}: actor type '${spec.type}' exposes no method '${spec.method}'`);
    }
    // One consumer group per topic for the whole cluster: nodes sharing a grid are one cluster.
    const cluster = c.grid.engine === 'hazelcast' ? (c.grid.hazelcast?.clusterName ?? 'troupe') : 'embedded';
    for (const spec of c.streams) {
      const intake = await createStreamIntake(spec, {
        call: (req) => new Promise((resolve) => this.router.call(req, { deliver: (_id, result) => resolve(result) }, 0)),
        backlog: () => ({ queued: this.bulkheads.queued, limit: c.maxQueued }),
        groupId: (topic) => streamGroupId(cluster, topic),
        log: this.log,
      });
      this.streams.push(intake);
      intake.start();
    }
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
      incarnation: this.incarnation,
      callTimeoutMs: c.callTimeoutMs,
      tracer: this.tracer,
      host: {
        // While draining this node owns nothing: calls peers still send here go on to the owner.
        callLocal: (req, sink, id) => (this.state === 'draining' ? this.router.call(req, sink, id) : this.router.callLocal(req, sink, id)),
        route: (req, sink, id) => this.router.call(req, sink, id),
        ownershipChanged: () => {
          this.bulkheads.ownershipChanged();
          this.wakeups?.ownershipChanged();
        },
        retakeAll: () => {
          this.bulkheads.ownershipChanged();
          this.wakeups?.retakeAll();
        },
        handoffEnded: (shards) => this.wakeups?.rescanShards(shards),
        deliverEvent: (topic, data, from, seq) => void this.topics.publish(topic, data, from, seq),
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

  /** This node's figures for the dashboards (its own and its peers'): cumulative counters and gauges. */
  private dashStats(source: MetricsSource): NodeStats {
    return {
      id: this.config.nodeId,
      started: this.started,
      at: Date.now(),
      state: this.state,
      figures: this.metrics.snapshot(),
      queued: source.queuedTurns(),
      activeActors: source.activeActors(),
      connections: source.connections(),
      outbox: source.outbox(),
      reminders: { ...source.reminders(), dueSoon: this.wakeups?.dueWithin(DUE_SOON_MS) ?? 0 },
      breakers: source.breakers(),
      shards: this.cluster === null ? {} : Object.fromEntries(this.cluster.placement.counts()),
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
    for (const b of this.typeBreakers) out.push(...b.states());
    return out;
  }

  private workerCall(msg: Extract<UpMessage, { k: 'call' }>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req: CallRequest = { type: msg.type, key: msg.key, method: msg.method, args: msg.args, idem: msg.idem, caller: msg.caller, timeoutMs: msg.timeout };
      // A traced turn's call: its context is the turn span's (set by the worker from its turn message).
      this.router.call(msg.tp === undefined ? req : { ...req, traceparent: msg.tp }, new PromiseSink(resolve, reject), 0);
    });
  }

  /** Events of a committed turn, to local subscribers and to peers with subscribers; each names its publisher and number. */
  private publishEvents(type: string, key: string, events: readonly OutgoingEvent[]): void {
    const from = `${type}/${key}`;
    for (const [topic, data, seq] of events) {
      this.topics.publish(topic, data, from, seq);
      this.cluster?.publish(topic, data, from, seq);
    }
  }

  /**
   * Drain: refuse new connections, give this node's shards to its peers (so
   * mail queued here moves to them), and let the turns already here finish
   * and commit, bounded by `timeoutMs`. The node then answers not ready and
   * holds nothing; `stop()` closes it. Draining twice waits for the first.
   */
  drain(timeoutMs = 5_000): Promise<void> {
    if (this.draining !== null) return this.draining;
    if (this.state !== 'running') return Promise.resolve();
    this.state = 'draining';
    this.draining = this.drainParts(timeoutMs);
    return this.draining;
  }

  private async drainParts(timeoutMs: number): Promise<void> {
    this.sagas?.close();
    this.gateway?.stopAccepting();
    const until = Date.now() + timeoutMs;
    // Streams first: no new records, the answered ones committed, the group told this node leaves (its partitions go to peers).
    await Promise.all(this.streams.map((s) => s.stop(Math.max(1, until - Date.now()))));
    if (this.cluster !== null) {
      await this.cluster.leave().catch((err: unknown) => this.log.log('warn', 'leave_failed', { error: (err as Error).message }));
      this.log.log('info', 'draining', { forwardedInflight: this.cluster.inflight, queued: this.bulkheads.queued });
    }
    await this.bulkheads.drain(Math.max(0, until - Date.now()));
    // Calls this node's clients sent on to other nodes: wait for their answers before the clients are closed.
    while (this.cluster !== null && this.cluster.inflight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    this.log.log('info', 'drained', {});
  }

  /**
   * Graceful stop: drain (bounded by `drainMs`) if the node is running,
   * then close everything. Stopping twice waits for the first.
   */
  stop(drainMs = 5_000): Promise<void> {
    this.stopping ??= this.stopParts(drainMs);
    return this.stopping;
  }

  private async stopParts(drainMs: number): Promise<void> {
    if (this.state === 'running' || this.draining !== null) await this.drain(drainMs);
    else {
      // A start that failed part-way: nothing ran, nothing to drain.
      this.state = 'draining';
      this.sagas?.close();
      this.gateway?.stopAccepting();
    }
    this.bulkheads?.close();
    this.wakeups?.close();
    this.dashboard?.close();
    await this.gateway?.close();
    await this.cluster?.close();
    if (this.cluster === null) await this.transport?.close();
    this.wheel?.close();
    await this.bulkheads?.closePools();
    for (const b of this.typeBreakers) b.close();
    await this.workerGrid?.close();
    // A grid handed in by the caller is the caller's to close.
    if (this.options.grid === undefined) await this.grid?.close();
    // Last: the spans of the calls answered while draining go out too. An unreachable collector must not fail the stop.
    await this.tracer?.shutdown().catch((err: unknown) => this.log.log('warn', 'tracing_flush_failed', { error: (err as Error).message }));
    this.state = 'stopped';
    if (TRACE_LATENCY) this.log.log('info', 'latency_budget', latencyBudget.summary());
    this.log.log('info', 'stopped', {});
  }
}

