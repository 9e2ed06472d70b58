/**
 * `troupe cluster down`, and the clean-up a failed `up` runs: nodes first
 * (SIGTERM: they drain while the grid and Consul are still there), then the
 * Hazelcast members, then the PostgreSQL server behind them, then the Consul agent. Only processes whose command line
 * is still the one we started are signalled. Logs stay in the run folder.
 */
import { join } from 'node:path';
import { stopRecordedPostgres } from '../durable.js';
import { type MemberInfo, readRunState } from '../hazelcast/members.js';
import { stopAgent } from './consul-agent.js';
import { stopClusterBroker } from './kafka-broker.js';
import { stopNode } from './node-process.js';
import { isOurProcess, terminate, type StopOutcome } from './processes.js';
import { removeSecret } from './secret.js';
import { clearState, type ClusterState, lockRunFolder, readState } from './state.js';
import { createProgress } from '../progress.js';
import type { RunStep } from '../steps.js';
import type { Out } from './table.js';

/** The whole cluster goes: members need no partition hand-over, so a short grace. */
const MEMBER_GRACE_MS = 10_000;

function describe(outcome: StopOutcome, graceMs: number): string {
  switch (outcome) {
    case 'exited': return 'exited after SIGTERM';
    case 'killed': return `SIGKILLed (still running ${graceMs / 1000} s after SIGTERM)`;
    case 'gone': return 'was not running';
  }
}

export function isOurMember(m: MemberInfo): boolean {
  // The markers `member-process.ts` puts on a member's command line.
  return isOurProcess(m.pid, [[`-Dtroupe.port=${m.port}`], ['com.hazelcast.core.server.HazelcastMemberStarter']]);
}

/**
 * Members recorded in the cluster state, plus any in the Hazelcast run
 * folder's own file: `startMembers` records them there before they have
 * formed, so an `up` interrupted at that point is still cleaned up.
 */
export function knownMembers(state: ClusterState): MemberInfo[] {
  const hzDir = state.hazelcast?.dir ?? join(state.dir, 'hazelcast');
  let recorded: readonly MemberInfo[] = [];
  try {
    recorded = readRunState(hzDir)?.members ?? [];
  } catch {
    // an unreadable file there: the cluster state's own list still counts
  }
  const byPid = new Map<number, MemberInfo>();
  for (const m of [...(state.hazelcast?.members ?? []), ...recorded]) byPid.set(m.pid, m);
  return [...byPid.values()];
}

/**
 * Stops everything `state` lists, one step per kind of process (a step only
 * for kinds it lists); returns how many processes had to be SIGKILLed.
 */
export async function teardown(state: ClusterState, graceMs: number, step: RunStep): Promise<number> {
  let killed = 0;
  const count = (o: StopOutcome): StopOutcome => {
    if (o === 'killed') killed++;
    return o;
  };
  if (state.nodes.length > 0) {
    await step(`stopping ${state.nodes.length} node(s) (each drains first)`, (detail) =>
      Promise.all(
        state.nodes.map(async (n) => {
          const outcome = count(await stopNode(n, graceMs));
          if (outcome !== 'gone') detail(`${n.id} (pid ${n.pid}) ${describe(outcome, graceMs)}`);
        }),
      ),
    );
  }
  // After the nodes (their consumers leave the group and commit on the way out), before the grid.
  const kafka = state.kafka;
  if (kafka != null) {
    await step('stopping the Kafka broker', async (detail) => {
      const outcome = count(await stopClusterBroker(kafka));
      if (outcome !== 'gone') detail(`pid ${kafka.pid} ${describe(outcome, 10_000)}; data kept in ${kafka.dir}`);
    });
  }
  const members = knownMembers(state);
  if (members.length > 0) {
    await step(`stopping ${members.length} hazelcast member(s)`, (detail) =>
      Promise.all(
        members.map(async (m) => {
          const outcome = isOurMember(m) ? count(await terminate(m.pid, MEMBER_GRACE_MS)) : 'gone';
          if (outcome !== 'gone') detail(`${m.address} (pid ${m.pid}) ${describe(outcome, MEMBER_GRACE_MS)}`);
        }),
      ),
    );
  }
  // After the members: a write-behind member flushes to it while shutting down.
  const pg = state.postgres;
  if (pg != null) {
    await step('stopping PostgreSQL', async (detail) => {
      if ((await stopRecordedPostgres(pg)) === 'stopped') detail(`pid ${pg.pid} stopped; data kept in ${pg.dataDir}`);
    });
  }
  const consul = state.consul;
  if (consul !== null) {
    await step('stopping the Consul agent', async (detail) => {
      const outcome = count(await stopAgent(consul));
      if (outcome !== 'gone') detail(`pid ${consul.pid} ${describe(outcome, 5_000)}`);
    });
  }
  return killed;
}

export async function down(dir: string, graceMs: number, err: Out): Promise<number> {
  const release = lockRunFolder(dir);
  try {
    const state = readState(dir);
    if (state === undefined) {
      err(`no cluster recorded in ${dir}; nothing to stop`);
      return 0;
    }
    const progress = createProgress();
    progress.note(`stopping cluster '${state.name}' (${state.nodes.length} node(s)) from ${dir}`);
    const killed = await teardown(state, graceMs, progress.step);
    clearState(dir);
    removeSecret(state.secretFile);
    progress.note(`stopped${killed > 0 ? `; ${killed} process(es) had to be SIGKILLed` : ''}; logs kept in ${dir}`);
    return 0;
  } finally {
    release();
  }
}
