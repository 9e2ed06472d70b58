/**
 * Commits the records a task's groups produced, each on its own: one group
 * commit to the grid for all of them, and an outcome per record, so one
 * failed write never fails the turns whose writes landed.
 *
 * A record whose outbox or reminders need an earlier wake-up than the wake
 * index holds has its index entry lowered first (wake-index.ts): the entry
 * must be there before the record that needs it, or a node dying between the
 * two would leave tells undelivered and reminders unfired. Records that need
 * nothing new from the index (nearly all) go to the grid at once, with no
 * allocation per record beyond the write itself.
 */
import type { RecordWrite, WriteOutcome } from '../../grid/index.js';
import { toErrorData, type ErrorData } from '../../protocol/errors.js';
import { FAILPOINTS_ON, failpoint } from '../failpoints.js';
import type { GroupCommitter } from '../group-committer.js';
import { NO_WAKE, type GroupResult } from '../pool/protocol.js';
import type { Wakeups } from '../reminders/wakeups.js';
import type { Activation } from './activation.js';

/** What the commit step needs of a group out: its actor and the version its turns read. */
export interface CommitRun {
  readonly act: Activation;
  readonly expectedVersion: number;
}

/** The wake-up a committed record needs from the index: 0 while tells wait, else its earliest reminder (NO_WAKE or less: none). */
export function wakeNeed(result: GroupResult): number {
  return result[6] > 0 ? 0 : result[7];
}

const failedWith = (error: ErrorData): WriteOutcome => ({ ok: false, conflict: false, error });

export class CommitStep {
  constructor(private readonly committer: GroupCommitter, private readonly wakeups: Wakeups) {}

  /** Resolves with the writes and one outcome per write, in the order of `runs`; never rejects. */
  async commit(runs: readonly CommitRun[], results: readonly GroupResult[]): Promise<{ writes: RecordWrite[]; outcomes: WriteOutcome[] }> {
    if (FAILPOINTS_ON) failpoint('before-commit');
    const writes = new Array<RecordWrite>(runs.length);
    let indexed: number[] | null = null;
    for (let i = 0; i < runs.length; i++) {
      const { act, expectedVersion } = runs[i]!;
      // The data owns its bytes: the pool reads results with byte strings copied out (turn-pool.ts).
      writes[i] = { type: act.type, key: act.key, expectedVersion, data: results[i]![1]! };
      if (wakeNeed(results[i]!) > NO_WAKE) (indexed ??= []).push(i);
    }
    if (indexed === null) return { writes, outcomes: await this.write(writes) };
    // Rare: some records need their wake index entry lowered first; those wait for it, the others do not.
    const outcomes = new Array<WriteOutcome>(writes.length);
    const first = new Set(indexed);
    const direct = writes.filter((_, i) => !first.has(i));
    const directDone = this.write(direct).then((o) => {
      let j = 0;
      for (let i = 0; i < writes.length; i++) if (!first.has(i)) outcomes[i] = o[j++]!;
    });
    await Promise.all([directDone, ...indexed.map(async (i) => {
      const act = runs[i]!.act;
      try {
        await this.wakeups.ensureIndexed(act, act.shard, wakeNeed(results[i]!));
      } catch (err) {
        outcomes[i] = failedWith(toErrorData(err, 'E_UNAVAILABLE'));
        return;
      }
      outcomes[i] = (await this.write([writes[i]!]))[0]!;
    })]);
    return { writes, outcomes };
  }

  private async write(writes: readonly RecordWrite[]): Promise<WriteOutcome[]> {
    if (writes.length === 0) return [];
    try {
      return await this.committer.submitMany(writes);
    } catch (err) {
      const outcome = failedWith(toErrorData(err, 'E_UNAVAILABLE'));
      return writes.map(() => outcome);
    }
  }
}
