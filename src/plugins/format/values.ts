/**
 * Value rules the text formats share (docs/VALUES.md): how a double, a bigint or a nested value is
 * spelled, and what becomes of a lone surrogate. Both CSV (list and struct columns are JSON text)
 * and JSON write nested values with `jsonText`, so they agree digit for digit.
 */

/** Node 20+, Deno, workerd; the regex is for older engines. */
const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The string with each lone surrogate replaced by U+FFFD, as every UTF-8 encoder does. */
export function wellFormed(s: string): string {
  const native = (s as string & { toWellFormed?: () => string }).toWellFormed;
  return native ? native.call(s) : s.replace(LONE_SURROGATES, '\ufffd');
}

/**
 * The JSON text of a non-finite double: a string, as Jackson (Spark's JSON writer) writes it and
 * Spark, DuckDB and pandas read it back as a double.
 */
export function nonFiniteText(x: number): string {
  return Number.isNaN(x) ? '"NaN"' : x > 0 ? '"Infinity"' : '"-Infinity"';
}

/**
 * JSON text of any row value: bigints as bare digits (exact, not rounded through a double), -0 as
 * `-0.0` (readers that type by text keep the sign), NaN and ±Infinity as strings, Dates as ISO 8601
 * (null when invalid), bytes as arrays of numbers, lone surrogates as U+FFFD; object keys in their
 * order, undefined members left out (as JSON.stringify does).
 *
 * @example jsonText({ n: 2n ** 64n, x: -0, l: [Number.NaN] }) // '{"n":18446744073709551616,"x":-0.0,"l":["NaN"]}'
 */
export function jsonText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(wellFormed(value));
    case 'number':
      if (!Number.isFinite(value)) return nonFiniteText(value);
      return Object.is(value, -0) ? '-0.0' : String(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'null' : `"${value.toISOString()}"`;
      if (value instanceof Uint8Array) return `[${value.join(',')}]`;
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          const item = value[i];
          out +=
            (i > 0 ? ',' : '') + (item === undefined || typeof item === 'function' ? 'null' : jsonText(item));
        }
        return `${out}]`;
      }
      let out = '{';
      let first = true;
      for (const [key, item] of Object.entries(value)) {
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
        out += `${first ? '' : ','}${JSON.stringify(wellFormed(key))}:${jsonText(item)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return 'null';
  }
}
