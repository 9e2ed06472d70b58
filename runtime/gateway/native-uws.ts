/**
 * Loads uWebSockets.js, the gateway's server, or says in one line why it cannot.
 *
 * The package (`@based/uws`, upstream uWS.js v20.51, installed under the name
 * `uWebSockets.js`) holds one native binary per platform and Node ABI and has
 * no JavaScript fallback: requiring it on a Node or a C library it has no
 * working binary for throws a multi-paragraph error. Measured: Node 20 (ABI
 * 115) and 22 (ABI 127) load on glibc 2.36; Node 24's binary (ABI 137) needs
 * glibc 2.38. So the gateway loads it through here, at start and not at import
 * (importing `troupe/runtime` must not throw), and a node on such a machine
 * refuses to start with a line that names the cause and the ways out, rather
 * than fail with the package's text or run degraded on something slower.
 */
import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';
import { failpoint, FAILPOINTS_ON } from '../failpoints.js';

export type UwsModule = typeof Uws;

/** No uWebSockets.js binary loads here; `message` is the one line the CLI prints. */
export class NativeUwsError extends Error {
  override name = 'NativeUwsError';
  readonly code = 'TROUPE_NO_NATIVE_UWS';
}

let loaded: UwsModule | undefined;

/** The uWebSockets.js module (loaded once per thread), or a NativeUwsError. */
export function loadNativeUws(): UwsModule {
  if (loaded !== undefined) return loaded;
  let mod: UwsModule;
  try {
    // A test forces this path with TROUPE_FAILPOINTS='load-uws=throw' on a machine where the binary loads.
    if (FAILPOINTS_ON) failpoint('load-uws');
    mod = createRequire(import.meta.url)('uWebSockets.js') as UwsModule;
  } catch (err) {
    throw new NativeUwsError(noNativeBuildLine(err), { cause: err });
  }
  if (!isNativeApp(mod)) {
    // Only another package installed under the name could do this (the old unofficial build's `ws` shim did).
    throw new NativeUwsError(`the installed uWebSockets.js is not the native build (its App is JavaScript): reinstall with npm install (package.json pins @based/uws)`);
  }
  loaded = mod;
  return mod;
}

/** Whether the native build loads on this Node and machine. */
export function isNativeUws(): boolean {
  try {
    loadNativeUws();
    return true;
  } catch {
    return false;
  }
}

function isNativeApp(mod: UwsModule): boolean {
  return typeof mod.App === 'function' && Function.prototype.toString.call(mod.App).includes('[native code]');
}

/** The cause (the loader's last line: a missing glibc symbol, no binary for this ABI) and what to do, on one line. */
export function noNativeBuildLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const cause = (lines[lines.length - 1] ?? 'unknown error').replace(/^Error: /, '');
  const where = `Node ${process.versions.node} (ABI ${process.versions.modules}) on ${process.platform} ${process.arch}`;
  return (
    `uWebSockets.js has no native build that loads on ${where}: ${cause}. ` +
    'Run the node on Node 20 or 22, or on Node 24 with glibc 2.38 or newer (e.g. Debian 13, Ubuntu 24.04); ' +
    'there is no JavaScript fallback'
  );
}
