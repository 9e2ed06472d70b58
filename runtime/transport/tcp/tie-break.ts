/**
 * Which link to keep when a peer's dial arrives (acceptor side, after the
 * dialer's proof checked out, before any data moves on either link).
 *
 * - No link, no dial of ours: accept.
 * - Both sides dialling at once: the link dialled by the node with the
 *   smaller id wins. Both nodes apply the same rule to the same two ids, so
 *   they keep the same link; the loser's dialler gets `reject` and waits for
 *   the winner (Erlang distribution settles simultaneous connects this way).
 * - Already linked: a dial from the same incarnation is a stale or racing
 *   duplicate (the peer still has its end of our link, or will see it close
 *   in a moment): refuse it. A dial from a new incarnation means the peer
 *   restarted and our link is dead even if no FIN has arrived yet: replace.
 */
export type TieBreak = 'accept' | 'supersede-ours' | 'replace-link' | 'duplicate';

export interface LinkSituation {
  /** Incarnation of the peer at the other end of our open link, if we have one. */
  readonly linkedIncarnation: string | undefined;
  /** We are dialling this peer right now. */
  readonly dialling: boolean;
}

export function tieBreak(selfId: string, dialerId: string, dialerIncarnation: string, now: LinkSituation): TieBreak {
  if (now.linkedIncarnation !== undefined) return now.linkedIncarnation === dialerIncarnation ? 'duplicate' : 'replace-link';
  if (now.dialling) return dialerId < selfId ? 'supersede-ours' : 'duplicate';
  return 'accept';
}
