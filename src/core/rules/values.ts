/**
 * Runtime value semantics shared by compiled rules: how raw profile values are compared, what counts as
 * a time, what exists. Nothing here throws, whatever the input.
 */

const ISO_PREFIX = /^[0-9]{4}-[0-9]{2}-[0-9]{2}/;

/**
 * Epoch milliseconds of a time-like value: a Date, an ISO 8601 string (no zone = UTC), or a number
 * (taken as epoch milliseconds). NaN for anything else, including impossible dates.
 */
export function toTime(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value instanceof Date) return value.getTime();
  return typeof value === 'string' ? isoTime(value) : Number.NaN;
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Strict ISO 8601 read by hand (no regex, no Date.parse: this runs once per profile per date comparison):
 * `YYYY-MM-DD[THH:MM[:SS[.fraction]][Z|±HH:MM]]`, calendar-checked, UTC ms.
 */
function isoTime(text: string): number {
  const n = text.length;
  if (n < 10 || text[4] !== '-' || text[7] !== '-') return Number.NaN;
  const y = digits(text, 0, 4);
  const mo = digits(text, 5, 2);
  const d = digits(text, 8, 2);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= DAYS[mo - 1]!) || (mo === 2 && d === 29 && !leap))
    return Number.NaN;
  const day = daysFromCivil(y, mo, d) * 86_400_000;
  if (n === 10) return day;
  if (n < 16 || text[10] !== 'T' || text[13] !== ':') return Number.NaN;
  const h = digits(text, 11, 2);
  const mi = digits(text, 14, 2);
  let i = 16;
  let sec = 0;
  let ms = 0;
  if (text[i] === ':') {
    sec = digits(text, 17, 2);
    i = 19;
    if (text[i] === '.') {
      const from = ++i;
      for (let scale = 100; i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57; i++, scale /= 10) {
        if (scale >= 1) ms += (text.charCodeAt(i) - 48) * scale;
      }
      if (i === from || i - from > 9) return Number.NaN;
    }
  }
  if (!(h <= 23 && mi <= 59 && sec <= 59)) return Number.NaN;
  const offset = zoneOffset(text, i);
  return day + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms - offset;
}

/** Offset in ms of the zone starting at `i` (nothing or `Z`: UTC); NaN when the rest is not a zone. */
function zoneOffset(text: string, i: number): number {
  const n = text.length;
  if (i === n || (i === n - 1 && text[i] === 'Z')) return 0;
  const sign = text[i] === '+' ? 1 : text[i] === '-' ? -1 : 0;
  if (sign === 0 || n - i !== 6 || text[i + 3] !== ':') return Number.NaN;
  const zh = digits(text, i + 1, 2);
  const zm = digits(text, i + 4, 2);
  return zh <= 23 && zm <= 59 ? sign * (zh * 60 + zm) * 60_000 : Number.NaN;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
}

/** The number written by `length` ASCII digits at `at`; NaN if any is not a digit. */
function digits(text: string, at: number, length: number): number {
  let n = 0;
  for (let i = at; i < at + length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) return Number.NaN;
    n = n * 10 + c;
  }
  return n;
}

/** True when the string looks like a date, so string equality must compare instants instead. */
export function isDateLike(value: unknown): boolean {
  return value instanceof Date || (typeof value === 'string' && ISO_PREFIX.test(value));
}

/**
 * `=` on two scalars: same type and value; a Date equals a Date or ISO string of the same instant.
 * Null, undefined, objects and lists are never equal to anything (use `exists`).
 */
export function equalValues(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return false;
  const ta = typeof a;
  if (ta !== 'object' && ta === typeof b) return a === b;
  if (a instanceof Date || b instanceof Date) {
    if (!isDateLike(a) || !isDateLike(b)) return false;
    const x = toTime(a);
    return !Number.isNaN(x) && x === toTime(b);
  }
  return false;
}

/**
 * Ordering of two scalars: numbers with numbers, strings with strings (UTF-16 order), and Dates with
 * Dates or ISO strings. NaN when they are not comparable, so every ordering test on it is false.
 */
export function compareValues(a: unknown, b: unknown): number {
  const ta = typeof a;
  if (ta === 'number' && typeof b === 'number') return (a as number) - b;
  if (ta === 'string' && typeof b === 'string') return a === b ? 0 : (a as string) < b ? -1 : 1;
  if ((a instanceof Date || b instanceof Date) && isDateLike(a) && isDateLike(b))
    return toTime(a) - toTime(b);
  return Number.NaN;
}

/** `exists`: not missing, not null, and for a list at least one element that is neither. */
export function exists(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (!Array.isArray(value)) return true;
  for (const v of value) if (v !== undefined && v !== null) return true;
  return false;
}

/** Any-match: a list on either side is true when some element (one level deep) satisfies `test`. */
export function anyPair(left: unknown, right: unknown, test: (l: unknown, r: unknown) => boolean): boolean {
  if (Array.isArray(left)) {
    for (const l of left) if (anyRight(l, right, test)) return true;
    return false;
  }
  return anyRight(left, right, test);
}

function anyRight(left: unknown, right: unknown, test: (l: unknown, r: unknown) => boolean): boolean {
  if (Array.isArray(right)) {
    for (const r of right) if (test(left, r)) return true;
    return false;
  }
  return test(left, right);
}

/** Any-match against a time: some element of `value` (or `value` itself) is a time with `test(time)`. */
export function anyTime(value: unknown, test: (t: number) => boolean): boolean {
  if (!Array.isArray(value)) return test(toTime(value));
  for (const v of value) if (!Array.isArray(v) && test(toTime(v))) return true;
  return false;
}

/** A value used as a condition: only the boolean `true` (or a list holding it) is true. */
export function isTrue(value: unknown): boolean {
  return value === true || (Array.isArray(value) && value.includes(true));
}

const UNSAFE = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Reads one path segment; through a list it reads every element and flattens one level (any-match). */
export function getSegment(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) {
      const x = Array.isArray(v) ? undefined : getSegment(v, key);
      if (Array.isArray(x)) for (const e of x) out.push(e);
      else if (x !== undefined) out.push(x);
    }
    return out;
  }
  if (UNSAFE.has(key) && !Object.hasOwn(value, key)) return undefined;
  return (value as Record<string, unknown>)[key];
}

/** True when reading `key` needs an own-property check (it names something on Object.prototype). */
export function isUnsafeKey(key: string): boolean {
  return UNSAFE.has(key);
}
