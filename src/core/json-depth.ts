/**
 * How deep parsed JSON may nest. Parsing deep input is cheap, but everything after it that recurses
 * (JSON.stringify when storing, schema checks, formats) throws a RangeError near 5,000 levels: a
 * request could turn into a 500. Inputs deeper than the limit are refused where they are read,
 * naming the line; real profiles and records nest a few levels.
 */

/** Most levels of objects and lists a value read from a user may nest (the value itself is level 1). */
export const MAX_JSON_DEPTH = 64;

/**
 * True when `value` nests objects or lists deeper than `max` levels. Iterative, so it cannot itself
 * overflow the stack, and it stops at the first path that is too deep.
 *
 * @example jsonDepthExceeds(JSON.parse('[[[]]]'), 2) // true
 */
export function jsonDepthExceeds(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: [object, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > max) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
