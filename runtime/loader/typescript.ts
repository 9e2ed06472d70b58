/**
 * Actor modules may be TypeScript files. Two ways to load them, picked once per
 * thread (the main thread and every worker pick their own: loader hooks do not
 * carry over to worker threads):
 *
 *  - tsx, when it is installed (it is Troupe's devDependency, so every checkout
 *    has it; `npm install tsx` adds it to a deployment): all of TypeScript, and
 *    `./other.js` imports that name a sibling `other.ts`, as tsc resolves them.
 *  - Node's own type stripping, where tsx is absent and the Node has it (on by
 *    default from 22.18 and 23.6; 22.6+ with --experimental-strip-types):
 *    nothing to install, but only erasable syntax (no enum, namespace or
 *    parameter properties) and relative imports spelled with `.ts`.
 *
 * tsx goes first where both exist so a file behaves the same in development
 * and in production. Where neither exists (Node 20 after
 * `npm install --omit=dev`) the node refuses with one line saying what to do.
 */
import { TypeScriptLoaderError } from './loader-errors.js';

export type TypeScriptLoader = 'tsx' | 'node-strip-types';

let chosen: TypeScriptLoader | undefined;

export function isTypeScriptModule(path: string): boolean {
  return /\.(ts|mts|cts)$/.test(path);
}

/** Whether this Node strips types itself (process.features.typescript is 'strip' or 'transform' then). */
export function nodeStripsTypes(): boolean {
  const features = process.features as { typescript?: unknown };
  return features.typescript === 'strip' || features.typescript === 'transform';
}

/**
 * Makes TypeScript modules importable in this thread when any are listed.
 * Returns the loader in use (undefined when no module is TypeScript).
 */
export async function registerTypeScriptIfNeeded(modules: readonly string[]): Promise<TypeScriptLoader | undefined> {
  if (chosen !== undefined) return chosen;
  const typescript = modules.filter(isTypeScriptModule);
  if (typescript.length === 0) return undefined;
  let api: { register: () => unknown } | undefined;
  try {
    api = (await import('tsx/esm/api')) as { register: () => unknown };
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
  }
  if (api !== undefined) {
    api.register();
    chosen = 'tsx';
  } else if (nodeStripsTypes()) {
    chosen = 'node-strip-types';
  } else {
    throw new TypeScriptLoaderError(
      `actor module ${typescript[0]} is TypeScript and Node ${process.versions.node} cannot load it without tsx: ` +
        'install it beside troupe (npm install tsx), run on Node 22.18 or newer (it strips types itself), ' +
        "or compile your actors to .js with tsc (README: 'Deploying your own actors')",
    );
  }
  return chosen;
}

/**
 * What to add to a TypeScript module's load error under Node's type stripping,
 * where the usual causes are its limits rather than the module (empty when none applies).
 */
export function strippingHint(err: unknown): string {
  if (chosen !== 'node-strip-types') return '';
  const code = (err as { code?: string }).code;
  if (code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX' || code === 'ERR_INVALID_TYPESCRIPT_SYNTAX') {
    return " (Node's type stripping takes erasable syntax only: no enum, namespace or parameter properties; install tsx for all of TypeScript, or compile with tsc)";
  }
  if (code === 'ERR_MODULE_NOT_FOUND') {
    return " (under Node's type stripping, import sibling TypeScript files as './other.ts', not './other.js'; or install tsx)";
  }
  return '';
}
