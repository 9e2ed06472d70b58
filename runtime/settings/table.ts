/**
 * The settings table, printed two ways from the one list in settings.ts:
 * Markdown for the README (a test checks the README holds exactly this) and
 * plain text for `troupe start --help`.
 */
import { SECRETS, SETTINGS, type Setting } from './settings.js';

interface Row {
  readonly flag: string;
  readonly env: string;
  readonly shownDefault: string;
  readonly allowed: string;
  readonly help: string;
}

function defaultOf(s: Setting<unknown>): string {
  if (s.shownDefault !== undefined) return s.shownDefault;
  const v = s.fallback();
  const text = Array.isArray(v) ? v.join(',') : String(v);
  return text === '' ? 'none' : `\`${text}\``;
}

function rows(): Row[] {
  const out: Row[] = (Object.values(SETTINGS) as Setting<unknown>[]).map((s) => ({
    flag: `\`${s.flag}\``,
    env: `\`${s.env}\``,
    shownDefault: defaultOf(s),
    allowed: s.kind.allowed,
    help: s.help,
  }));
  for (const secret of Object.values(SECRETS)) {
    out.push({
      flag: '(none)',
      env: `\`${secret.env}\``,
      shownDefault: 'none',
      allowed: `text, ${secret.minLength}+ characters`,
      help: `${secret.help}; environment only (flags show in \`ps\`), never logged`,
    });
  }
  return out;
}

/** The README's configuration table. */
export function settingsMarkdown(): string {
  const lines = ['| Flag | Environment | Default | Allowed | Meaning |', '|---|---|---|---|---|'];
  for (const r of rows()) lines.push(`| ${r.flag} | ${r.env} | ${r.shownDefault} | ${r.allowed} | ${r.help} |`);
  return lines.join('\n');
}

const plain = (s: string): string => s.replace(/`/g, '').replace(/\[([^\]]+)\]\([^)]+\)/g, '$1');

/** The same rows for a terminal: the flag, variable, default and allowed values on one line, the meaning below. */
export function settingsText(): string {
  return rows()
    .map((r) => `  ${plain(r.flag).padEnd(30)} ${plain(r.env).padEnd(36)} default ${plain(r.shownDefault)}; ${plain(r.allowed)}\n      ${plain(r.help)}`)
    .join('\n');
}
