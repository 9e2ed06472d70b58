/**
 * The kinds of value a node setting can hold. Each kind reads a setting two
 * ways with the same checks and the same messages: from text (a flag, an
 * environment variable) and from a typed value (the embedding API,
 * `startNode({ port: 0 })`). So `--port 70000` and `{ port: 70000 }` fail
 * with the same line, and neither path has checks of its own.
 */

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface SettingKind<T> {
  /** From a flag's or environment variable's text; `name` is the flag or variable, for the message. */
  parse(raw: string, name: string): T;
  /** From a typed value given in code; `name` is the setting's flag, so the message matches the CLI's. */
  check(value: unknown, name: string): T;
  /** The allowed values, as the settings table shows them (Markdown). */
  readonly allowed: string;
}

const shown = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? String(value));

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): SettingKind<number> {
  const check = (value: unknown, name: string): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got '${shown(value)}'`);
    }
    return value;
  };
  return {
    // Number('') is 0 and Number(' 7') is 7: only plain digits (and a sign) count as an integer's text.
    parse: (raw, name) => check(/^-?\d+$/.test(raw) ? Number(raw) : raw, name),
    check,
    allowed: max === Number.MAX_SAFE_INTEGER ? `integer ≥ ${min}` : `integer ${min}-${max}`,
  };
}

export const text: SettingKind<string> = {
  parse: (raw, name) => text.check(raw, name),
  check: (value, name) => {
    if (typeof value !== 'string') throw new ConfigError(`${name} must be a string, got '${shown(value)}'`);
    if (value.length === 0) throw new ConfigError(`${name} must not be empty`);
    return value;
  },
  allowed: 'text',
};

/** Text that may be empty (an empty value means "not set", e.g. no zone). */
export const optionalText: SettingKind<string> = {
  parse: (raw) => raw,
  check: (value, name) => {
    if (typeof value !== 'string') throw new ConfigError(`${name} must be a string, got '${shown(value)}'`);
    return value;
  },
  allowed: 'text',
};

/** Comma-separated on the command line, an array of strings in code. */
export const list: SettingKind<readonly string[]> = {
  parse: (raw) => raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0),
  check: (value, name) => {
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      throw new ConfigError(`${name} must be a list of strings (comma-separated on the command line), got '${shown(value)}'`);
    }
    return (value as string[]).map((s) => s.trim()).filter((s) => s.length > 0);
  },
  allowed: 'comma-separated list',
};

export function oneOf<T extends string>(values: readonly T[]): SettingKind<T> {
  const check = (value: unknown, name: string): T => {
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
      throw new ConfigError(`${name} must be one of ${values.join(', ')}, got '${shown(value)}'`);
    }
    return value as T;
  };
  return { parse: check, check, allowed: values.map((v) => `\`${v}\``).join(', ') };
}

/** `true` or `false` on the command line, a boolean in code. */
export const bool: SettingKind<boolean> = {
  parse: (raw, name) => {
    if (raw !== 'true' && raw !== 'false') throw new ConfigError(`${name} must be one of true, false, got '${raw}'`);
    return raw === 'true';
  },
  check: (value, name) => {
    if (typeof value !== 'boolean') throw new ConfigError(`${name} must be one of true, false, got '${shown(value)}'`);
    return value;
  },
  allowed: '`true`, `false`',
};

/**
 * Web origins (`scheme://host[:port]`, as a browser sends them in `Origin`), or `*` for any:
 * comma-separated on the command line, an array in code. A path, a trailing slash or a
 * wildcard inside a host is refused, since a browser's Origin never matches one.
 */
export const origins: SettingKind<readonly string[]> = {
  parse: (raw, name) => origins.check(list.parse(raw, name), name),
  check: (value, name) => {
    const items = list.check(value, name);
    for (const item of items) {
      if (item === '*') continue;
      let url: URL | undefined;
      try {
        url = new URL(item);
      } catch {
        url = undefined;
      }
      if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== item) {
        throw new ConfigError(`${name} takes origins like https://app.example.com or http://127.0.0.1:8080 (no path, no trailing slash), or *, got '${item}'`);
      }
    }
    return items;
  },
  allowed: 'comma-separated origins (`https://host[:port]`), or `*`',
};
