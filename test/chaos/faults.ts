/**
 * The faults a chaos run can inject, as `--faults` names them. Each is a way
 * real clusters fail that produced duplicate activations or stale reads
 * elsewhere (Orleans, Proto.Actor, Dapr); `restart` is what brings the
 * victims of the others back.
 */
export const FAULT_KINDS = ['kill', 'pause', 'partition', 'member', 'agent', 'restart'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_HELP: Record<FaultKind, string> = {
  kill: 'SIGKILL a Troupe node',
  pause: 'SIGSTOP a node for longer than the Consul TTL, then SIGCONT',
  partition: 'cut a node off from its peers, the grid and the Consul server (its network namespace\'s link goes down), then heal',
  member: 'SIGKILL a Hazelcast member (the others hold its backups)',
  agent: 'SIGKILL the Consul client agent a node uses',
  restart: 'start killed nodes, members and agents again (without it they stay down until the load ends)',
};

/** Parses `kill,pause,...`; throws a TypeError naming the bad entry. */
export function parseFaults(list: string): FaultKind[] {
  const out: FaultKind[] = [];
  for (const raw of list.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    if (!(FAULT_KINDS as readonly string[]).includes(name)) throw new TypeError(`unknown fault '${name}'; known: ${FAULT_KINDS.join(', ')}`);
    if (!out.includes(name as FaultKind)) out.push(name as FaultKind);
  }
  if (out.length === 0) throw new TypeError(`--faults needs at least one of ${FAULT_KINDS.join(', ')}`);
  return out;
}

/** Faults needing the lab topology (a network namespace and a Consul agent per node). */
export function needsLab(faults: readonly FaultKind[]): boolean {
  return faults.includes('partition') || faults.includes('agent');
}
