import uws from 'uWebSockets.js';

/**
 * The uWebSockets.js package we depend on falls back to a `ws`-based
 * emulation when its native binary does not load (or UWS_USE_FALLBACK is
 * set). That fallback is several times slower and differs in edge cases, so a
 * node refuses to start on it rather than run quietly degraded.
 */
export function isNativeUws(): boolean {
  return Function.prototype.toString.call(uws.App).includes('[native code]');
}

export function assertNativeUws(): void {
  if (!isNativeUws()) {
    throw new Error('uWebSockets.js native binary did not load (fallback in use): check the platform (linux x64, Node 20) and unset UWS_USE_FALLBACK');
  }
}
