import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { ErrorCode } from '../../protocol/errors.js';
import { FastHistogram } from './fast-histogram.js';

/** What the metrics read from the node when scraped; nothing on the hot path but plain increments. */
export interface MetricsSource {
  queuedTurns(): number;
  activeActors(): number;
  inflightGroups(): number;
  connections(): number;
  pools(): readonly { name: string; threads: number; utilization: number; queued: number }[];
  breakers(): readonly { name: string; state: 'closed' | 'open' | 'half-open' }[];
  outbox(): { pending: number; delivered: number; retries: number; undeliverable: number };
  reminders(): { pending: number; fired: number };
  /** What /health/ready answers (true: 200). */
  ready(): boolean;
  /** `--stream` intakes: lag per partition, record outcomes since start. */
  streams?(): readonly { topic: string; lag: readonly { partition: number; lag: number }[]; counts: Readonly<Record<string, number>> }[];
}

/** Per actor type, counted since start; `latency` holds per-bucket (not cumulative) counts over `bounds` (seconds). */
export interface CallFigures {
  readonly calls: Record<string, number>;
  readonly errors: Record<string, number>;
  readonly bounds: readonly number[];
  readonly latency: Record<string, { counts: number[]; count: number; sum: number }>;
}

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/**
 * One registry per node (not prom-client's global one), so two nodes in one
 * process keep separate figures. Hot-path counts are plain numbers that the
 * registry reads through `collect` when /metrics is scraped.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  private readonly calls = new Map<string, number>();
  private readonly errors = new Map<string, number>();
  /** Errors by actor type (the /metrics counter has them by code): for the dashboard's per-type error rates. */
  private readonly typeErrors = new Map<string, number>();
  private readonly latency = new FastHistogram(
    'troupe_call_duration_seconds',
    'Time from a call reaching this node to its answer, by actor type',
    'actor',
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  /** Observed once per group commit (a batch of writes), not per call. */
  private readonly commitLatency = new FastHistogram(
    'troupe_commit_duration_seconds',
    'Time of one group commit to the grid (a batch of turns\' writes), failed ones included, by bulkhead',
    'bulkhead',
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );

  constructor(nodeId: string, source: MetricsSource) {
    this.registry.setDefaultLabels({ node: nodeId });
    const calls = this.calls;
    const errors = this.errors;
    this.registry.registerMetric(new Counter({
      name: 'troupe_calls_total', help: 'Calls answered, by actor type', labelNames: ['actor'], registers: [],
      collect() {
        this.reset();
        for (const [actor, n] of calls) this.inc({ actor }, n);
      },
    }));
    this.registry.registerMetric(new Counter({
      name: 'troupe_errors_total', help: 'Calls answered with an error, by code', labelNames: ['code'], registers: [],
      collect() {
        this.reset();
        for (const [code, n] of errors) this.inc({ code }, n);
      },
    }));
    this.registry.registerMetric(this.latency as unknown as Metric);
    this.registry.registerMetric(this.commitLatency as unknown as Metric);
    const gauge = (name: string, help: string, read: () => number): void => {
      this.registry.registerMetric(new Gauge({ name, help, registers: [], collect() { this.set(read()); } }));
    };
    gauge('troupe_ready', 'What /health/ready answers: 1 ready (200), 0 not ready (503)', () => (source.ready() ? 1 : 0));
    gauge('troupe_queued_turns', 'Turns waiting in mailboxes: the backlog an autoscaler should watch', () => source.queuedTurns());
    gauge('troupe_active_actors', 'Actors with a live activation on this node', () => source.activeActors());
    gauge('troupe_inflight_groups', 'Groups of turns running in workers or committing', () => source.inflightGroups());
    gauge('troupe_connections', 'Open client connections', () => source.connections());
    gauge('troupe_outbox_pending', 'Committed tells not yet acknowledged by their targets: the outbox backlog', () => source.outbox().pending);
    const counter = (name: string, help: string, read: () => number): void => {
      this.registry.registerMetric(new Counter({ name, help, registers: [], collect() { this.reset(); this.inc(read()); } }));
    };
    counter('troupe_outbox_delivered_total', 'Tells delivered and acknowledged', () => source.outbox().delivered);
    counter('troupe_outbox_retries_total', 'Tell deliveries sent again after a timeout or a refusal that may pass', () => source.outbox().retries);
    counter('troupe_outbox_undeliverable_total', 'Tells that can never be delivered (unknown actor type or method, refused arguments): logged and dropped', () => source.outbox().undeliverable);
    gauge('troupe_reminders_pending', 'Local actors waiting for a reminder or wake-up in this node\'s clock', () => source.reminders().pending);
    counter('troupe_wakeups_total', 'Wake-up turns started by due reminders, tells to deliver and acknowledged tells', () => source.reminders().fired);
    const poolGauge = (name: string, help: string, pick: (p: ReturnType<MetricsSource['pools']>[number]) => number): void => {
      this.registry.registerMetric(new Gauge({
        name, help, labelNames: ['pool'], registers: [],
        collect() {
          this.reset();
          for (const p of source.pools()) this.set({ pool: p.name }, pick(p));
        },
      }));
    };
    this.registry.registerMetric(new Gauge({
      name: 'troupe_breaker_state', help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open', labelNames: ['breaker'], registers: [],
      collect() {
        this.reset();
        for (const b of source.breakers()) this.set({ breaker: b.name }, BREAKER_VALUE[b.state]);
      },
    }));
    poolGauge('troupe_pool_threads', 'Worker threads in each pool', (p) => p.threads);
    poolGauge('troupe_pool_utilization', 'Share of time the pool\'s threads were busy (0..1)', (p) => p.utilization);
    poolGauge('troupe_pool_queued_tasks', 'Tasks waiting inside each pool', (p) => p.queued);
    this.registry.registerMetric(new Gauge({
      name: 'troupe_stream_lag', help: 'Records of a stream partition past its last committed offset, as this node last saw them (partitions it reads)', labelNames: ['topic', 'partition'], registers: [],
      collect() {
        this.reset();
        for (const s of source.streams?.() ?? []) for (const p of s.lag) this.set({ topic: s.topic, partition: String(p.partition) }, p.lag);
      },
    }));
    this.registry.registerMetric(new Counter({
      name: 'troupe_stream_records_total', help: 'Stream records handled since start, by outcome (applied, skipped, failed), and resends (retries) and backpressure pauses (pauses)', labelNames: ['topic', 'outcome'], registers: [],
      collect() {
        this.reset();
        for (const s of source.streams?.() ?? []) for (const [outcome, n] of Object.entries(s.counts)) this.inc({ topic: s.topic, outcome }, n);
      },
    }));
    collectDefaultMetrics({ register: this.registry });
  }

  /** Records one answered call; `code` is set for errors. */
  record(actor: string, seconds: number, code: ErrorCode | null): void {
    this.calls.set(actor, (this.calls.get(actor) ?? 0) + 1);
    if (code !== null) {
      this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
      this.typeErrors.set(actor, (this.typeErrors.get(actor) ?? 0) + 1);
    }
    this.latency.observe(actor, seconds);
  }

  /** One group commit to the grid took `seconds`. */
  recordCommit(bulkhead: string, seconds: number): void {
    this.commitLatency.observe(bulkhead, seconds);
  }

  /** Errors that happen before a call has an actor (bad frames, too large). */
  recordError(code: ErrorCode): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  /** Cumulative per-type counts and latency buckets, as plain data: what the dashboard turns into rates. */
  snapshot(): CallFigures {
    return {
      calls: Object.fromEntries(this.calls),
      errors: Object.fromEntries(this.typeErrors),
      bounds: this.latency.bounds,
      latency: this.latency.snapshot(),
    };
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
