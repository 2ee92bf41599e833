/**
 * How deep parsed JSON may nest. Parsing deep input is cheap, but everything after it that recurses
 * (JSON.stringify when storing, schema checks, formats) throws a RangeError near 5,000 levels: a
 * request could turn into a 500. Inputs deeper than the limit are refused where they are read,
 * naming the line; real profiles and records nest a few levels.
 */

/** Most levels of objects and lists a value read from a user may nest (the value itself is level 1). */
export const MAX_JSON_DEPTH = 64;

/**
 * True when `value` nests objects or lists deeper than `max` levels. It recurses at most `max + 1`
 * levels (it stops where a path gets too deep), so it cannot itself overflow the stack, and it
 * allocates nothing: it runs on every ingested record.
 *
 * @example jsonDepthExceeds(JSON.parse('[[[]]]'), 2) // true
 */
export function jsonDepthExceeds(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  return value !== null && typeof value === 'object' && deeper(value, 1, max);
}

function deeper(node: object, depth: number, max: number): boolean {
  if (depth > max) return true;
  if (Array.isArray(node)) {
    for (const child of node) if (child !== null && typeof child === 'object' && deeper(child, depth + 1, max)) return true;
    return false;
  }
  for (const key in node) {
    if (!Object.hasOwn(node, key)) continue;
    const child = (node as Record<string, unknown>)[key];
    if (child !== null && typeof child === 'object' && deeper(child, depth + 1, max)) return true;
  }
  return false;
}
