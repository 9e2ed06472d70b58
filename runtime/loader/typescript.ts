/**
 * Actor modules may be TypeScript files: they load through tsx's ESM hooks,
 * registered once per thread (the main thread and every worker register
 * their own: hooks do not carry over to worker threads).
 */
let registered = false;

export function isTypeScriptModule(path: string): boolean {
  return /\.(ts|mts|cts)$/.test(path);
}

export async function registerTypeScriptIfNeeded(modules: readonly string[]): Promise<void> {
  if (registered || !modules.some(isTypeScriptModule)) return;
  const { register } = (await import('tsx/esm/api')) as { register: () => unknown };
  register();
  registered = true;
}
