/**
 * The file piscina loads in each worker. piscina tries require() before
 * import(), and Node 20's require() of an ES module graph intermittently
 * leaves the loader in a broken state ("No handler function exported",
 * ERR_INTERNAL_ASSERTION). A CommonJS entry makes require() succeed every
 * time; the real worker stays an ES module behind a dynamic import.
 */
type RunTask = (task: Uint8Array) => Promise<unknown>;
let impl: Promise<RunTask> | undefined;

module.exports = function runTask(task: Uint8Array): Promise<unknown> {
  impl ??= import('./worker.js').then((m: { default: RunTask }) => m.default);
  return impl.then((run) => run(task));
};
