/**
 * Option parsing for the small commands (`call`, `dev`) and the "did you
 * mean" hint every command gives for a mistyped flag. node:util's parseArgs
 * does the parsing; its unknown-option error is rewritten to name the
 * nearest known option.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { didYouMean } from '../did-you-mean.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs's error, with the nearest known flag named when the flag is unknown. */
export function explainParseError(err: unknown, options: Options): string {
  const e = err as { code?: string; message?: string };
  const message = e.message ?? String(err);
  if (e.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return message;
  const flag = /Unknown option '([^']+)'/.exec(message)?.[1] ?? '';
  const known = Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short === undefined ? [] : [`-${o.short}`])]);
  return `unknown option ${flag}${didYouMean(flag, known)}`;
}

export function parseOptions<O extends Options>(args: readonly string[], options: O): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(explainParseError(err, options));
  }
}
