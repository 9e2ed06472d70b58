/**
 * `troupe cluster up`: Consul agent, Hazelcast members, then the nodes, all
 * detached so they outlive the command. Every process is recorded in the
 * state file as soon as it is launched; if any step fails (or the command is
 * interrupted), everything started so far is stopped again.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isOurRecordedPostgres, type PostgresRecord, prepareDurable } from '../durable.js';
import { fetchMemberJar, startMembers } from '../hazelcast/members.js';
import { fetchConsulBinary, isOurAgent, startAgent } from './consul-agent.js';
import { isOurMember, knownMembers, teardown } from './down.js';
import { createStreamTopic, isOurBroker, startClusterBroker, streamFlag } from './kafka-broker.js';
import { isOurNode, launchNode, nodeArgs, waitNodeReady } from './node-process.js';
import type { UpOptions } from './options.js';
import { defaultActors } from './paths.js';
import { chooseBlock, memberPort, nodePorts } from './ports.js';
import { sleep } from './processes.js';
import { createSecret, readSecret, removeSecret } from './secret.js';
import { commandHint, reportEndpoints, waitForPassing } from './report.js';
import { clearState, type ClusterState, lockRunFolder, type NodeRecord, readState, writeState } from './state.js';
import { createProgress } from '../progress.js';
import type { Detail } from '../steps.js';
import type { Out } from './table.js';

/** True while any process a state lists is still ours and alive. */
export function anyRunning(state: ClusterState): boolean {
  return (
    state.nodes.some(isOurNode) ||
    knownMembers(state).some(isOurMember) ||
    (state.postgres != null && isOurRecordedPostgres(state.postgres)) ||
    (state.kafka != null && isOurBroker(state.kafka)) ||
    (state.consul !== null && isOurAgent(state.consul))
  );
}

function checkActors(actors: readonly string[]): void {
  const missing = actors.find((a) => !existsSync(a));
  if (missing !== undefined) throw new Error(`actor module ${missing} does not exist`);
}

/**
 * Starts waiting for `node` to be ready at once; what the wait reports is
 * kept until `shown` hands it a step's detail (the step for an earlier node
 * may still be on screen).
 */
function readiness(node: NodeRecord, timeoutMs: number): { node: NodeRecord; shown(detail: Detail): Promise<void> } {
  const kept: string[] = [];
  let sink: Detail | undefined;
  const ready = waitNodeReady(node, timeoutMs, (line) => (sink === undefined ? kept.push(line) : sink(line)));
  ready.catch(() => {}); // awaited through `shown`; until then a failure must not count as unhandled
  return {
    node,
    shown(detail) {
      sink = detail;
      for (const line of kept.splice(0)) detail(line);
      return ready;
    },
  };
}

export async function up(dir: string, o: UpOptions, out: Out): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const release = lockRunFolder(dir);
  let state: ClusterState | undefined;
  const record = (next: ClusterState): void => {
    state = next;
    writeState(dir, next);
  };
  const progress = createProgress();
  // Ctrl-C (or a SIGTERM) in the middle of `up` must not leave half a cluster behind.
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    progress.note(`${sig}: stopping what was started`);
    void stopEverything().finally(() => {
      if (state !== undefined) {
        clearState(dir);
        removeSecret(state.secretFile);
      }
      release();
      process.exit(130);
    });
  };
  /**
   * A step already under way can still launch a process after the signal
   * (the agent after its port check, members inside startMembers); both are
   * recorded the moment they exist, so repeat until nothing recorded runs.
   */
  const stopEverything = async (): Promise<void> => {
    for (let round = 0; round < 5 && state !== undefined; round++) {
      await teardown(state, 5_000, progress.step);
      await sleep(200);
      if (!anyRunning(state)) return;
    }
  };
  // Checked between steps: after a signal, launch nothing more (the handler stops what is recorded).
  const checkpoint = (): void => {
    if (interrupted) throw new Error('interrupted');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const existing = readState(dir);
    if (existing !== undefined && anyRunning(existing)) {
      throw new Error(`cluster '${existing.name}' started from ${dir} is still running; '${commandHint(dir, 'down')}' first`);
    }
    const actors = o.actors ?? defaultActors();
    checkActors(actors);
    const started = Date.now();
    progress.note(`starting a local cluster: ${o.nodes} node(s), ${o.members} Hazelcast member(s), one Consul agent${o.kafka ? ', one Kafka broker' : ''}; run folder ${dir}`);

    const binary = await progress.step('getting the Consul agent (downloaded once, then cached)', async (detail) => {
      const path = await fetchConsulBinary(detail);
      detail(path);
      return path;
    });
    checkpoint();
    const base = await chooseBlock(o.basePort, o.nodes, o.members);
    progress.note(`ports: block ${base}-${base + 99} on 127.0.0.1`);
    checkpoint();
    const name = `troupe-${randomBytes(3).toString('hex')}`;
    const secretFile = createSecret(dir);
    const secret = readSecret(secretFile);
    record({
      version: 1, name, dir, basePort: base, startedAt: new Date().toISOString(), secretFile,
      actors, nodeFlags: o.nodeFlags, zones: o.zones, consul: null, hazelcast: null, nodes: [],
    });

    const consul = await progress.step('starting the Consul agent', async (detail) => {
      const c = await startAgent({ binary, base, name: `${name}-consul`, dir }, (launched) => {
        record({ ...state!, consul: launched });
        detail(`pid ${launched.pid}, log ${launched.log}; waiting for serfHealth`);
      });
      detail(`ready on ${c.url}`);
      return c;
    });
    checkpoint();

    const recordPostgres = (pg: PostgresRecord): void => record({ ...state!, postgres: pg });
    const durable = o.durable.kind === 'local'
      ? await progress.step('starting PostgreSQL for the durable tier', (detail) => prepareDurable(o.durable, dir, detail, recordPostgres))
      : await prepareDurable(o.durable, dir, () => {}, recordPostgres);
    record({ ...state!, durability: durable.description });
    progress.note(`durability: ${durable.description}`);
    checkpoint();

    const jar = await progress.step('getting the Hazelcast jar (downloaded once, then cached)', (detail) => fetchMemberJar(detail));
    checkpoint();
    const hzDir = join(dir, 'hazelcast');
    record({ ...state!, hazelcast: { clusterName: name, dir: hzDir, members: [] } });
    const running = await startMembers({
      count: o.members, basePort: memberPort(base, 0), clusterName: name, dir: hzDir, heapMb: o.heapMb, jar,
      readyTimeoutMs: o.readyTimeoutMs, tieToParent: false, steps: progress.step,
      ...(durable.store === undefined ? {} : { store: durable.store }),
    });
    progress.note(`hazelcast: split-brain quorum ${running.quorum === 0 ? `off (${o.members} member(s): a survivor cannot tell a crash from a cut)` : `${running.quorum} of ${o.members}`}`);
    checkpoint();
    const members = running.members.map((m) => m.address);
    record({ ...state!, hazelcast: { clusterName: name, dir: hzDir, members: running.members } });

    let nodeFlags = o.nodeFlags;
    if (o.kafka) {
      const kafka = await progress.step('starting the Kafka broker (jars downloaded once, then cached)', async (detail) => {
        const k = await startClusterBroker(dir, detail, (launched) => record({ ...state!, kafka: launched }));
        detail(`pid ${k.pid} on ${k.bootstrap}, log ${k.log}`);
        return k;
      });
      checkpoint();
      const stream = o.stream;
      if (stream !== undefined) {
        await progress.step(`topic '${stream.topic}' (${stream.partitions} partitions) into ${stream.target}`, async (detail) => {
          detail(await createStreamTopic(kafka.bootstrap, stream));
        });
        nodeFlags = [...nodeFlags, ...streamFlag(kafka, stream)];
        record({ ...state!, streams: [stream], nodeFlags });
      }
      checkpoint();
    }

    for (let n = 1; n <= o.nodes; n++) {
      checkpoint();
      const id = `node-${n}`;
      const ports = nodePorts(base, n)!;
      const zone = o.zones.length === 0 ? '' : o.zones[(n - 1) % o.zones.length]!;
      const args = nodeArgs({
        id, ...ports, zone, consulUrl: consul.url, hazelcastCluster: name, hazelcastMembers: members, actors, extraFlags: nodeFlags,
      });
      const node = launchNode({ id, ...ports, zone, args, dir, secret });
      record({ ...state!, nodes: [...state!.nodes, node] });
    }
    // The nodes start side by side; their steps are shown one after another.
    for (const wait of state!.nodes.map((n) => readiness(n, o.readyTimeoutMs))) {
      await progress.step(`starting ${wait.node.id}`, (detail) => {
        detail(`pid ${wait.node.pid}, log ${wait.node.log}`);
        return wait.shown(detail);
      });
    }

    // Needs cluster mode: until nodes register themselves, Consul lists none.
    const ids = state!.nodes.map((n) => n.id);
    const passing = await progress.step('waiting for Consul to list the nodes as passing', () => waitForPassing(consul.url, ids, 5_000));
    progress.note(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    reportEndpoints(state!, passing, out);
    return 0;
  } catch (e) {
    if (interrupted) return new Promise<number>(() => {}); // the signal handler finishes and exits
    if (state !== undefined) {
      progress.note('start-up failed: stopping what was started');
      await teardown(state, 5_000, progress.step);
      clearState(dir);
      removeSecret(state.secretFile);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!interrupted) release();
  }
}
