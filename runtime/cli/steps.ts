/**
 * The shape of a long command's progress, without any way of showing it:
 * code that does the work (start members, fetch a jar) takes a `RunStep` and
 * reports through it; the CLI passes one that draws (runtime/cli/progress.ts),
 * library callers and tests get `messageSteps`, which only forwards text.
 */

/** Reports one line of detail about the step under way (a PID, a log path, what is awaited). */
export type Detail = (line: string) => void;

/**
 * Runs `work` as one titled step: shown while it runs, then marked done or
 * failed with its time. Resolves or rejects as `work` does.
 */
export type RunStep = <T>(title: string, work: (detail: Detail) => Promise<T>) => Promise<T>;

/**
 * A `RunStep` that draws nothing: each title and detail goes to `message`
 * as a line (or nowhere), as the old `onProgress` callbacks did.
 */
export function messageSteps(message: (line: string) => void = () => {}): RunStep {
  return async (title, work) => {
    message(title);
    return work(message);
  };
}
