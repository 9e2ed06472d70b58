/**
 * `troupe cluster autoscale`: a local control loop that shows elasticity on
 * one machine. Every interval it reads the stream's consumer lag from the
 * broker (group-lag.ts), asks the policy (scale-policy.ts) and adds a node
 * (`troupe cluster add`) or drains the newest one (`kill --signal TERM`: it
 * finishes its turns, commits its offsets and leaves the group). It prints a
 * timeline, one sample a line (or a JSON object), and a summary at the end.
 *
 * It samples while a node starts or drains (the action runs beside the loop)
 * so the timeline shows what the change did to the lag. It holds the run
 * folder's lock only inside each add or drain, so `status` and `kill` still
 * work while it runs. Bounded by --duration; Ctrl-C ends it after the action
 * under way.
 */
import { streamGroupId } from '../../streams/stream-intake.js';
import { GroupLagReader, type GroupLag } from './group-lag.js';
import { add, kill, loadState, nodeNumber } from './node-commands.js';
import { isOurNode } from './node-process.js';
import type { AutoscaleOptions } from './options.js';
import { sleep } from './processes.js';
import { decide, type LagSample, type ScaleAction } from './scale-policy.js';
import { type NodeRecord, readState } from './state.js';
import type { Out } from './table.js';

/** Samples kept for the rate and the drain rule; older ones only fill memory. */
const KEPT_SAMPLES = 64;

export interface TimelineEntry {
  readonly t_s: number;
  readonly lag: number | null;
  /** Records the group has committed so far, over all partitions. */
  readonly committed: number | null;
  readonly rate_per_s: number;
  readonly nodes: number;
  readonly action: ScaleAction | 'error';
  readonly why: string;
  readonly node?: string;
}

function aliveNodes(dir: string): NodeRecord[] {
  return (readState(dir)?.nodes ?? []).filter(isOurNode);
}

function formatLine(e: TimelineEntry): string {
  const lag = e.lag === null ? '?' : e.lag.toLocaleString('en-US');
  const rate = `${e.rate_per_s >= 0 ? '+' : ''}${Math.round(e.rate_per_s).toLocaleString('en-US')}/s`;
  const act = e.action === 'hold' ? '' : `  -> ${e.action}${e.node === undefined ? '' : ` ${e.node}`}`;
  return `t=${e.t_s.toFixed(1).padStart(6)}s  lag ${lag.padStart(9)}  ${rate.padStart(9)}  nodes ${e.nodes}${act}  (${e.why})`;
}

export async function autoscale(dir: string, o: AutoscaleOptions, out: Out, err: Out): Promise<number> {
  const state = loadState(dir);
  const stream = state.streams?.[0];
  if (stream === undefined || state.kafka == null || state.hazelcast === null) {
    throw new Error(`cluster '${state.name}' reads no stream: start it with 'troupe cluster up --kafka-stream TOPIC:Type.method'`);
  }
  const minNodes = o.minNodes ?? Math.max(1, aliveNodes(dir).length);
  if (minNodes > o.maxNodes) throw new RangeError(`--max-nodes ${o.maxNodes} is below the ${minNodes} node(s) running (give --min-nodes to drain below them)`);
  const reader = new GroupLagReader([state.kafka.bootstrap], streamGroupId(state.hazelcast.clusterName, stream.topic), stream.topic);
  const policy = { lagTarget: o.lagTarget, minNodes, maxNodes: o.maxNodes, cooldownMs: o.cooldownMs, horizonS: o.horizonS, rateWindowMs: 3 * o.intervalMs };
  const say: Out = (line) => err(`  [autoscale] ${line}`);
  say(`topic ${stream.topic} into ${stream.target}; lag target ${o.lagTarget} per node; nodes ${minNodes}..${o.maxNodes}; every ${o.intervalMs} ms for at most ${o.durationS} s${o.untilIdle ? ', until idle' : ''}`);

  let stopping = false;
  const onSignal = (): void => {
    stopping = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const samples: LagSample[] = [];
  let action: Promise<void> | null = null;
  let lastActionAt = -Infinity;
  let first: GroupLag | null = null;
  let last: GroupLag | null = null;
  let peakLag = 0;
  let peakNodes = 0;
  let adds = 0;
  let drains = 0;
  let failures = 0;
  /** When lag was first seen above 0, and when it was last seen back at 0 after that. */
  let busySince: number | null = null;
  let idleAt: number | null = null;
  const started = Date.now();
  const run = (what: string, p: Promise<number>): void => {
    action = p.then(
      (code) => {
        if (code !== 0) failures++;
      },
      (e: unknown) => {
        failures++;
        say(`${what} failed: ${(e as Error).message}`);
      },
    ).finally(() => {
      action = null;
    });
  };
  try {
    while (!stopping && Date.now() - started < o.durationS * 1000) {
      const tick = Date.now();
      const t = tick - started;
      const nodes = aliveNodes(dir);
      peakNodes = Math.max(peakNodes, nodes.length);
      let entry: TimelineEntry;
      let lag: GroupLag | null = null;
      try {
        lag = await reader.read();
      } catch (e) {
        entry = { t_s: t / 1000, lag: null, committed: null, rate_per_s: 0, nodes: nodes.length, action: 'error', why: `reading the lag: ${(e as Error).message}` };
      }
      if (lag !== null) {
        first ??= lag;
        last = lag;
        peakLag = Math.max(peakLag, lag.total);
        if (lag.total > 0 && busySince === null) busySince = t;
        if (lag.total === 0 && busySince !== null) idleAt ??= t;
        if (lag.total > 0) idleAt = null;
        samples.push({ t, lag: lag.total });
        if (samples.length > KEPT_SAMPLES) samples.shift();
        const d = decide({ samples, nodes: nodes.length, lastActionAt, busy: action !== null }, policy);
        let node: string | undefined;
        if (d.action === 'add') {
          adds++;
          lastActionAt = t;
          run('adding a node', add(dir, '', o.readyTimeoutMs, [], say, say));
        } else if (d.action === 'drain') {
          const newest = [...nodes].sort((a, b) => nodeNumber(b) - nodeNumber(a))[0]!;
          node = newest.id;
          drains++;
          lastActionAt = t;
          run(`draining ${node}`, kill(dir, node, 'SIGTERM', say));
        }
        entry = { t_s: t / 1000, lag: lag.total, committed: lag.committed, rate_per_s: d.ratePerS, nodes: nodes.length, action: d.action, why: d.why, ...(node === undefined ? {} : { node }) };
      }
      out(o.json ? JSON.stringify(entry!) : formatLine(entry!));
      if (o.untilIdle && action === null && busySince !== null && lag?.total === 0 && nodes.length <= minNodes) break;
      await sleep(Math.max(0, o.intervalMs - (Date.now() - tick)));
    }
    if (action !== null) {
      say('waiting for the node change under way');
      await action;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await reader.close();
  }
  const applied = first !== null && last !== null ? last.committed - first.committed : 0;
  const catchUpS = busySince !== null && idleAt !== null ? (idleAt - busySince) / 1000 : null;
  const summary = {
    seconds: (Date.now() - started) / 1000,
    peak_lag: peakLag,
    peak_nodes: peakNodes,
    nodes_at_end: aliveNodes(dir).length,
    adds,
    drains,
    failed_changes: failures,
    applied,
    // From the first sample with lag to the first one back at 0: how long the burst took to absorb.
    catch_up_s: catchUpS,
    applied_per_s: catchUpS !== null && catchUpS > 0 ? Math.round(applied / catchUpS) : null,
  };
  out(o.json ? JSON.stringify({ summary }) : `summary: ${Object.entries(summary).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  return failures === 0 ? 0 : 1;
}
