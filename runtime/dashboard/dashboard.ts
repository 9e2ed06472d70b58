/**
 * The live picture behind /dash: once a second, while at least one page is
 * watching, it samples this node, reads every peer's /dash/node.json (short
 * deadline each, all at once), decides each member's state, and pushes one
 * JSON snapshot to every watching socket. Nothing runs while nobody watches.
 *
 * Member states, as this node sees them:
 *   up       its figures came back on the last tick;
 *   suspect  it did not answer in time once (a pause, a slow network);
 *   down     its port refused (the process is gone), it missed two ticks in a
 *            row, or discovery dropped it. Down members stay listed (greyed)
 *            for DOWN_KEPT_MS so a failover stays visible.
 */
import type { Logger } from '../log.js';
import type { EventLog } from './event-log.js';
import { readPeerStats, type NodeStats } from './node-stats.js';
import { addDeltas, bucketDeltas, quantileMs, ratesBetween, type BucketDeltas, type TypeRates } from './rates.js';

export interface DashPeer {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly zone?: string;
}

export interface DashboardDeps {
  readonly selfId: string;
  readonly selfZone: string;
  /** This node's figures now. */
  readonly local: () => NodeStats;
  /** Discovery's members (self included); null outside a cluster. */
  readonly members: () => readonly DashPeer[] | null;
  /** A token for peers' /dash/node.json when auth is on; null when it is off. */
  readonly peerToken: () => Promise<string | null>;
  readonly events: EventLog;
  readonly log: Logger;
  /** Defaults: a tick a second, 800 ms per peer read, a 5 s rate window. */
  readonly tickMs?: number;
  readonly peerTimeoutMs?: number;
  readonly windowMs?: number;
}

export interface DashSink {
  send(text: string): void;
}

type MemberState = 'up' | 'suspect' | 'down';

interface Track {
  id: string;
  zone: string;
  address: string;
  port: number;
  state: MemberState;
  since: number;
  reason: string;
  misses: number;
  inDiscovery: boolean;
  /** Samples within the rate window, oldest first, each with the local time it arrived. */
  samples: { got: number; stats: NodeStats }[];
}

const DOWN_KEPT_MS = 10 * 60_000;

export class Dashboard {
  private readonly sinks = new Set<DashSink>();
  private readonly tracks = new Map<string, Track>();
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  private closed = false;
  private readonly tickMs: number;
  private readonly peerTimeoutMs: number;
  private readonly windowMs: number;
  /** The last snapshot, sent at once to a page that opens between ticks. */
  private last: string | null = null;

  constructor(private readonly d: DashboardDeps) {
    this.tickMs = d.tickMs ?? 1000;
    this.peerTimeoutMs = d.peerTimeoutMs ?? 800;
    this.windowMs = d.windowMs ?? 5000;
  }

  watch(sink: DashSink): void {
    if (this.closed) return;
    this.sinks.add(sink);
    if (this.last !== null) sink.send(this.last);
    if (this.timer === null) {
      this.timer = setInterval(() => void this.tick(), this.tickMs);
      this.timer.unref();
      void this.tick();
    }
  }

  unwatch(sink: DashSink): void {
    this.sinks.delete(sink);
    if (this.sinks.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
      // Nobody watches, nothing is sampled: kept samples would give the next watcher
      // rates averaged over the idle gap, and `last` would show it old figures.
      this.last = null;
      for (const t of this.tracks.values()) t.samples = [];
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.sinks.clear();
  }

  /** One round: sample everyone, then push. A round still waiting on a slow peer makes the next one skip. */
  async tick(): Promise<void> {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    try {
      const text = JSON.stringify(await this.snapshot());
      this.last = text;
      for (const s of this.sinks) s.send(text);
    } catch (err) {
      this.d.log.log('warn', 'dashboard_tick_failed', { error: (err as Error).message });
    } finally {
      this.ticking = false;
    }
  }

  private async snapshot(): Promise<object> {
    const now = Date.now();
    const self = this.d.local();
    const listed = this.d.members() ?? [{ id: this.d.selfId, address: '', port: 0, zone: this.d.selfZone }];
    const ids = new Set(listed.map((m) => m.id));
    for (const m of listed) {
      let t = this.tracks.get(m.id);
      if (t === undefined) {
        t = { id: m.id, zone: m.zone ?? '', address: m.address, port: m.port, state: 'up', since: now, reason: '', misses: 0, inDiscovery: true, samples: [] };
        this.tracks.set(m.id, t);
      }
      Object.assign(t, { zone: m.zone ?? '', address: m.address, port: m.port, inDiscovery: true });
    }
    for (const t of this.tracks.values()) {
      if (!ids.has(t.id) && t.inDiscovery) {
        t.inDiscovery = false;
        this.setState(t, 'down', 'discovery dropped it', now);
      }
      if (!t.inDiscovery && t.state === 'down' && now - t.since > DOWN_KEPT_MS) this.tracks.delete(t.id);
    }
    this.addSample(this.tracks.get(this.d.selfId)!, self, now);
    const token = await this.d.peerToken();
    await Promise.all([...this.tracks.values()].filter((t) => t.id !== this.d.selfId && t.inDiscovery).map(async (t) => {
      const r = await readPeerStats(`http://${urlHost(t.address)}:${t.port}/dash/node.json`, token, this.peerTimeoutMs);
      const at = Date.now();
      if (r.ok) {
        t.misses = 0;
        this.addSample(t, r.stats, at);
        this.setState(t, 'up', '', at);
      } else {
        t.misses++;
        t.samples = [];
        this.setState(t, r.definite || t.misses >= 2 ? 'down' : 'suspect', r.reason, at);
      }
    }));
    return this.build(self, now);
  }

  private addSample(t: Track, stats: NodeStats, got: number): void {
    // A restarted node's counters began again: its old samples would give negative rates.
    if (t.samples.length > 0 && t.samples[0]!.stats.started !== stats.started) t.samples = [];
    t.samples.push({ got, stats });
    while (t.samples.length > 2 && got - t.samples[0]!.got > this.windowMs) t.samples.shift();
  }

  private setState(t: Track, state: MemberState, reason: string, now: number): void {
    if (t.state === state) return;
    const level = state === 'up' ? 'info' : 'warn';
    this.d.events.add(level, `member_${state}`, `${t.id} ${state}${reason === '' ? '' : ` (${reason})`}`, now);
    t.state = state;
    t.since = now;
    t.reason = reason;
  }

  private build(self: NodeStats, now: number): object {
    const nodes = [];
    const typeTotals: Record<string, { calls: number; errors: number }> = {};
    const typeBuckets: BucketDeltas = {};
    let bounds: readonly number[] = self.figures.bounds;
    for (const t of [...this.tracks.values()].sort((a, b) => a.id.localeCompare(b.id))) {
      const newest = t.samples[t.samples.length - 1];
      const oldest = t.samples[0];
      let types: Record<string, TypeRates> = {};
      // All of this node's calls in the window, whatever their type: its own p50/p99 (troupe top shows them).
      let nodeBuckets: number[] = [];
      if (t.state !== 'down' && newest !== undefined && oldest !== undefined && newest !== oldest) {
        // The peer's own clock times its samples: a slow read does not stretch its rate.
        const seconds = (newest.stats.at - oldest.stats.at) / 1000;
        const deltas = bucketDeltas(oldest.stats.figures, newest.stats.figures);
        types = ratesBetween(oldest.stats.figures, newest.stats.figures, seconds, deltas);
        addDeltas(typeBuckets, deltas);
        nodeBuckets = mergedBuckets(deltas);
        bounds = newest.stats.figures.bounds;
        for (const [type, r] of Object.entries(types)) {
          const tt = (typeTotals[type] ??= { calls: 0, errors: 0 });
          tt.calls += r.calls;
          tt.errors += r.errors;
        }
      }
      const s = newest?.stats;
      nodes.push({
        id: t.id,
        zone: t.zone,
        state: t.state,
        since: t.since,
        reason: t.reason,
        self: t.id === this.d.selfId,
        shards: self.shards[t.id] ?? (Object.keys(self.shards).length === 0 && t.id === this.d.selfId ? 'all' : 0),
        types,
        p50: quantileMs(bounds, nodeBuckets, 0.5),
        p99: quantileMs(bounds, nodeBuckets, 0.99),
        ...(s === undefined || t.state === 'down' ? {} : {
          queued: s.queued,
          activeActors: s.activeActors,
          connections: s.connections,
          outbox: s.outbox,
          reminders: s.reminders,
          breakers: s.breakers,
        }),
      });
    }
    const types = Object.fromEntries(Object.entries(typeTotals).sort(([a], [b]) => a.localeCompare(b)).map(([type, r]) => [type, {
      ...r,
      p50: quantileMs(bounds, typeBuckets[type] ?? [], 0.5),
      p99: quantileMs(bounds, typeBuckets[type] ?? [], 0.99),
    }]));
    return { at: now, servedBy: this.d.selfId, windowMs: this.windowMs, nodes, types, events: this.d.events.recent() };
  }
}

/** Every type's bucket counts added into one series. */
function mergedBuckets(deltas: BucketDeltas): number[] {
  const all: BucketDeltas = {};
  for (const d of Object.values(deltas)) addDeltas(all, { all: d });
  return all.all ?? [];
}

/** An IPv6 literal needs brackets in a URL. */
function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
