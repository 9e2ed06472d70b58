/**
 * Member tooling: fetch the Hazelcast jar, start and stop loopback members by
 * PID, and the `troupe hazelcast up|status|down` command. It lives beside the
 * CLI, apart from the engine it serves: `grid/hazelcast/` (the engine) does not
 * depend on any of this and connects to whatever members configuration names.
 */
export { fetchMemberJar, logSize, startMembers, waitForFormation, waitForMigrations } from './member-launcher.js';
export type { RunningMembers, StartMembersOptions } from './member-launcher.js';
export { isAlive, killMember, launchMember, stopMember } from './member-process.js';
export { freePort } from '../free-port.js';
export type { LaunchMemberOptions, MemberInfo } from './member-process.js';
export { probeCluster } from './member-probe.js';
export { buildMemberStoreJar, DURABILITY_MODES, parsePostgresUrl, quorumFor, STORED_MAPS } from './member-store.js';
export type { DurabilityMode, MemberStore } from './member-store.js';
export { readRunState } from './run-state.js';
export type { RunState } from './run-state.js';
export { hazelcastCommand } from './cli.js';
