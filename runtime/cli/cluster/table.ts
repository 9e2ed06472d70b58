/** Plain-text tables for a terminal, and how to name a run folder in a hint. */

export type Out = (line: string) => void;

/** Columns padded to their widest cell; the last column is not padded. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    indent + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** How to name this run folder on a command line: nothing for the default. */
export function dirFlag(dir: string, defaultDir: string): string {
  return dir === defaultDir ? '' : ` --dir ${dir.includes(' ') ? JSON.stringify(dir) : dir}`;
}
