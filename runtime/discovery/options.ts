/** Option checks shared by the engines: each throws a TypeError naming the option and what it expected. */

export function intOption(value: unknown, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
  return value;
}

export function stringOption(value: unknown, name: string, fallback: string, pattern?: RegExp): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0 || (pattern !== undefined && !pattern.test(value))) {
    throw new TypeError(`${name} must be a non-empty string${pattern === undefined ? '' : ` matching ${String(pattern)}`} (got ${JSON.stringify(value)})`);
  }
  return value;
}

export function objectOption<T extends object>(value: T | undefined, name: string): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${name} must be an object`);
  return value;
}
