import {
  ClientNotActiveError,
  ClientOfflineError,
  HazelcastError,
  HazelcastInstanceNotActiveError,
  IndeterminateOperationStateError,
  IOError,
  MemberLeftError,
  NoDataMemberInClusterError,
  OperationTimeoutError,
  ReachedMaxSizeError,
  SplitBrainProtectionError,
  TargetDisconnectedError,
  TargetNotMemberError,
} from 'hazelcast-client';
import { Errors, TroupeError } from '../../protocol/errors.js';

/**
 * hazelcast-client failures that mean "the grid cannot be reached right now".
 * The invocation timeout is among them: it fires only after the client kept
 * retrying a reachable-looking cluster, and unlike E_TIMEOUT, E_UNAVAILABLE
 * tells the caller a retry after a backoff is safe (every write is
 * version-checked, so a retry cannot apply twice).
 *
 * Also among them: a member refusing work because it is cut off from the
 * majority (split-brain protection), and a write whose synchronous backup
 * never answered (indeterminate: with fail-on-indeterminate-state the client
 * reports it instead of acknowledging a write that may live on one member
 * only, e.g. the cut-off side of a partition).
 */
const UNAVAILABLE = [
  ClientOfflineError,
  ClientNotActiveError,
  IOError,
  TargetDisconnectedError,
  TargetNotMemberError,
  MemberLeftError,
  HazelcastInstanceNotActiveError,
  NoDataMemberInClusterError,
  OperationTimeoutError,
  SplitBrainProtectionError,
  IndeterminateOperationStateError,
];

/** The members' PostgreSQL store failed (troupe.hazelcast.store.StoreException on the member). */
function isStoreFailure(err: unknown): boolean {
  if (!(err instanceof HazelcastError)) return false;
  if (err.message.includes('troupe.hazelcast.store.')) return true;
  return (err.serverStackTrace ?? []).some((e) => e.className.startsWith('troupe.hazelcast.store.'));
}

/** Maps a hazelcast-client error to E_UNAVAILABLE (cause kept); anything else is a bug and passes through. */
export function toGridError(err: unknown, clusterName: string): unknown {
  if (err instanceof TroupeError) return err;
  if (UNAVAILABLE.some((cls) => err instanceof cls)) {
    const e = Errors.unavailable(`the Hazelcast grid (cluster '${clusterName}')`);
    return new TroupeError(e.code, e.message, { cause: err });
  }
  // Write-behind queue full: the store is behind; the write was not taken.
  if (err instanceof ReachedMaxSizeError) {
    const e = Errors.overloaded(`the Hazelcast grid's write-behind queue (its store is behind)`);
    return new TroupeError(e.code, e.message, { cause: err });
  }
  if (isStoreFailure(err)) {
    // The write did not land (write-through stores before it changes memory); the database's message stays in the cause, off the wire.
    const e = Errors.unavailable(`the Hazelcast grid's store (PostgreSQL behind cluster '${clusterName}')`);
    return new TroupeError(e.code, e.message, { cause: err });
  }
  return err;
}
