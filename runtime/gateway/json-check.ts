/**
 * Checks a value JSON.parse produced against the edge's limits: one walk,
 * stopping at the first violation. JSON.parse itself does not recurse (it
 * parses any depth), but everything after it does (msgpack encoding to the
 * workers, JSON encoding of answers), so depth is bounded here. The walk's
 * own recursion is bounded by `maxDepth`, which config caps far below the
 * stack.
 */
import { Errors, type ErrorData } from '../../protocol/errors.js';
import type { WireLimits } from '../../protocol/limits.js';

/**
 * The first limit `value` breaks, or null. `depth` is the level of the
 * containers enclosing it: 0 for a message, 1 for an HTTP call's args array.
 */
export function checkJson(value: unknown, limits: WireLimits, depth: number): ErrorData | null {
  if (typeof value === 'string') {
    return value.length > limits.maxString ? Errors.stringTooLong(value.length, limits.maxString, 'characters').toData() : null;
  }
  if (typeof value !== 'object' || value === null) return null;
  if (depth >= limits.maxDepth) return Errors.tooDeep(limits.maxDepth).toData();
  if (Array.isArray(value)) {
    if (value.length > limits.maxCollection) return Errors.collectionTooLarge(value.length, limits.maxCollection).toData();
    for (let i = 0; i < value.length; i++) {
      const e = value[i];
      // Scalars inline: most elements are numbers, and a call per element costs more than the check.
      if (typeof e === 'object' || typeof e === 'string') {
        const bad = checkJson(e, limits, depth + 1);
        if (bad !== null) return bad;
      }
    }
    return null;
  }
  const object = value as Record<string, unknown>;
  let entries = 0;
  // JSON.parse makes plain objects: for-in sees exactly their own keys.
  for (const key in object) {
    if (++entries > limits.maxCollection) return Errors.collectionTooLarge(Object.keys(object).length, limits.maxCollection).toData();
    if (key.length > limits.maxString) return Errors.stringTooLong(key.length, limits.maxString, 'characters').toData();
    const e = object[key];
    if (typeof e === 'object' || typeof e === 'string') {
      const bad = checkJson(e, limits, depth + 1);
      if (bad !== null) return bad;
    }
  }
  return null;
}
