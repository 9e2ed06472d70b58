/**
 * Worker side of a turn pool. A task is a batch of groups, each the next turns
 * of one actor (see group-run.ts).
 *
 * Groups whose handlers await something outside the worker (a call to another
 * actor, the grid) must not hold up the rest of the batch: the task answers
 * after one macrotask with the groups that finished, and the others report
 * over the side channel when they do.
 */
import { threadId } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import Piscina from 'piscina';
import { ActorRegistry } from '../actor-registry.js';
import { failedGroup, GroupRun } from './group-run.js';
import type { GroupResult, Task, TaskGroup, TaskResult, UpMessage, WorkerSettings } from './protocol.js';
import { tight } from './protocol.js';
import { WorkerChannel } from './worker-channel.js';
import { stamp, TRACE_LATENCY } from '../metrics/latency-trace.js';

const settings = Piscina.workerData as WorkerSettings;
// No top-level await: piscina first tries require() on this file, and Node 20's
// require(esm) refuses modules with top-level await in a way that breaks the import() after it.
let registry: ActorRegistry | undefined;
let loadError: unknown;
const loading = ActorRegistry.load(settings.modules).then(
  (r) => void (registry = r),
  (err: unknown) => void (loadError = err),
);
const packr = new Packr({ useRecords: false, moreTypes: true });
const channel = new WorkerChannel(settings.channel, settings.callTimeoutMs);

function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export default async function runTask(task: Uint8Array): Promise<unknown> {
  const tookAt = TRACE_LATENCY ? stamp() : 0;
  if (registry === undefined) {
    await loading;
    if (registry === undefined) throw loadError;
  }
  let groups: readonly TaskGroup[];
  let keepUntil: number;
  try {
    [keepUntil, groups] = packr.unpack(task) as Task;
  } catch (err) {
    // Thrown as plain data, not an Error: the host tells a task it could not read from a thread that died.
    throw { code: 'E_BAD_REQUEST', message: `the task could not be decoded in the worker (${err instanceof Error ? err.message : String(err)})` };
  }
  const done: GroupResult[] = [];
  const later: Promise<void>[] = [];
  let answered = false;
  for (const group of groups) {
    const type = registry.get(group[1]);
    if (type === undefined) {
      // The host validated the type, so the worker's module set differs: fail loudly, change nothing.
      done.push(failedGroup(group, { code: 'E_UNKNOWN_ACTOR', message: `actor type '${group[1]}' is not loaded in the worker` }));
      continue;
    }
    let run: GroupRun;
    let pending: PromiseLike<unknown> | null;
    try {
      run = new GroupRun(group, type, settings, channel, keepUntil);
      pending = run.runSync();
    } catch (err) {
      // Outside any handler: a throwing constructor, a corrupt record. Fail the group, change nothing.
      done.push(failedGroup(group, err));
      continue;
    }
    if (pending === null) {
      done.push(run.result());
      continue;
    }
    later.push(
      run.runAsync(pending).catch((err: unknown) => failedGroup(group, err)).then((result) => {
        if (answered) channel.post({ k: 'done', group: group[0], result: tight(packr.pack(result)) } satisfies UpMessage);
        else done.push(result);
      }),
    );
  }
  // Groups awaiting something outside the worker report over the channel instead of holding up the task.
  if (later.length > 0) await Promise.race([Promise.all(later), nextMacrotask()]);
  answered = true;
  const deferred: number[] = [];
  if (done.length < groups.length) {
    const ids = new Set(done.map((r) => r[0]));
    for (const g of groups) if (!ids.has(g[0])) deferred.push(g[0]);
  }
  const result: TaskResult = TRACE_LATENCY ? [done, deferred, threadId, [tookAt, stamp()]] : [done, deferred, threadId];
  return Piscina.move(tight(packr.pack(result)));
}
