/**
 * Member tooling: fetch the Hazelcast jar, start and stop loopback members by
 * PID, and the `troupe hazelcast up|status|down` command. The grid engine
 * itself (`hazelcast-grid.ts`) does not depend on any of this; it connects to
 * whatever members configuration names.
 */
export { fetchMemberJar, startMembers, waitForFormation } from './member-launcher.js';
export type { RunningMembers, StartMembersOptions } from './member-launcher.js';
export { freePort, isAlive, killMember, launchMember, stopMember } from './member-process.js';
export type { LaunchMemberOptions, MemberInfo } from './member-process.js';
export { probeCluster } from './member-probe.js';
export { readRunState } from './run-state.js';
export type { RunState } from './run-state.js';
export { hazelcastCommand } from './cli.js';
