/**
 * "Did you mean …": the one place that picks the known name closest to a misspelt one, for unknown
 * keys, plugin names, enum values, macros, schedule kinds and profile attributes alike.
 */

/**
 * Edit distance between two strings (Levenshtein with adjacent transpositions, case-insensitive),
 * or `limit + 1` as soon as it is known to exceed `limit`.
 *
 * @example distance('contry', 'country') // 1
 */
export function distance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  if (Math.abs(s.length - t.length) > limit) return limit + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > limit) return limit + 1;
    prev2 = prev;
    prev = row;
  }
  return prev[t.length]!;
}

/**
 * The candidate closest to `input`, when it is close enough to be a likely typo: at most a third of
 * the longer name's length (at least one edit) apart, or equal but for case. Undefined otherwise.
 *
 * @example closest('format/csvv', ['format/csv', 'format/json']) // 'format/csv'
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  let found: string | undefined;
  let best = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === input) return undefined;
    const limit = Math.max(1, Math.floor(Math.max(input.length, candidate.length) / 3));
    const d = distance(input, candidate, limit);
    if (d <= limit && d < best) {
      best = d;
      found = candidate;
    }
  }
  return found;
}

/**
 * ` (did you mean "country"?)` when a candidate is close to `input`, else `''`: appended to a message.
 * Only names the caller knows (keys of a schema, registered plugins, allowed values) are suggested,
 * never anything the user sent, so a suggestion cannot echo a secret.
 */
export function didYouMean(input: string, candidates: Iterable<string>): string {
  const found = closest(input, candidates);
  return found === undefined ? '' : ` (did you mean ${JSON.stringify(found)}?)`;
}
