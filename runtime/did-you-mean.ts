/**
 * "Did you mean": the known word nearest to a mistyped one, by edit
 * distance, for unknown commands, flags and setting names. Far-off words get
 * no suggestion: a wrong guess is worse than none.
 */

/** Levenshtein distance, with a transposition counted as one edit (`--prot` → `--port`). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The nearest candidate within a third of the word's length (at least 2 edits), or undefined. */
export function nearest(word: string, known: Iterable<string>): string | undefined {
  const candidates = [...known];
  const core = word.replace(/^-+/, '');
  const limit = Math.max(2, Math.floor(core.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const distance = editDistance(word.toLowerCase(), c.toLowerCase());
    if (distance < bestDistance) {
      best = c;
      bestDistance = distance;
    }
  }
  if (best !== undefined && bestDistance <= limit) return best;
  // A prefix is a likely abbreviation (`--hazelcast` for `--hazelcast-members`) when only one candidate has it.
  const prefixed = candidates.filter((c) => core.length >= 3 && c.replace(/^-+/, '').startsWith(core));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** `; did you mean --port?` or the empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const hit = nearest(word, candidates);
  return hit === undefined ? '' : `; did you mean ${hit}?`;
}
