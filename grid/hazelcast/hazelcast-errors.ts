import {
  ClientNotActiveError,
  ClientOfflineError,
  HazelcastInstanceNotActiveError,
  IOError,
  MemberLeftError,
  NoDataMemberInClusterError,
  OperationTimeoutError,
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
];

/** Maps a hazelcast-client error to E_UNAVAILABLE (cause kept); anything else is a bug and passes through. */
export function toGridError(err: unknown, clusterName: string): unknown {
  if (err instanceof TroupeError) return err;
  if (UNAVAILABLE.some((cls) => err instanceof cls)) {
    const e = Errors.unavailable(`the Hazelcast grid (cluster '${clusterName}')`);
    return new TroupeError(e.code, e.message, { cause: err });
  }
  return err;
}
