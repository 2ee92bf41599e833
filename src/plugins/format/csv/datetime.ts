/**
 * Java-style date/time patterns (`yyyy-MM-dd'T'HH:mm:ss.SSSXXX`), the ones Spark's CSV writer takes
 * for `dateFormat` and `timestampFormat`. Patterns are compiled once into a formatter; every value
 * is rendered in UTC, so offset letters (`X`, `x`, `Z`) always print a zero offset.
 */

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Calendar fields of one instant, in UTC, read once per value. */
interface Fields {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  ms: number;
  /** Microseconds beyond `ms` (0–999). */
  us: number;
  date: Date;
}
type Part = (f: Fields) => string;

const PAD2 = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

function pad(n: number, width: number): string {
  if (width === 2 && n < 100) return PAD2[n]!;
  const s = String(n);
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}

function year(y: number, count: number): string {
  return count === 2 ? PAD2[y % 100]! : pad(y, count);
}

function month(m: number, count: number): string {
  if (count >= 4) return MONTHS[m]!;
  if (count === 3) return MONTHS[m]!.slice(0, 3);
  return pad(m + 1, count);
}

function dayOfYear(d: Date): number {
  return Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
}

/** `count` digits of the fraction of a second: milliseconds, then microseconds, then zeros (truncated). */
function fraction(ms: number, us: number, count: number): string {
  const text = ms < 10 ? `00${ms}` : ms < 100 ? `0${ms}` : String(ms);
  if (count <= 3) return text.slice(0, count);
  const micros = us < 10 ? `00${us}` : us < 100 ? `0${us}` : String(us);
  return count <= 6 ? (text + micros).slice(0, count) : text + micros + '0'.repeat(count - 6);
}

/** Offset letters in UTC: `X` prints `Z`, `x`/`Z` print a numeric zero offset. */
function offset(letter: string, count: number): string {
  if (letter === 'X') return 'Z';
  if (letter === 'Z') return count === 4 ? 'GMT' : count === 5 ? 'Z' : '+0000';
  return count === 1 ? '+00' : count === 3 || count === 5 ? '+00:00' : '+0000';
}

/**
 * Year, month (0-based) and day of a day count since 1970-01-01, proleptic Gregorian (H. Hinnant's
 * days-to-civil): one `getTime()` and integer arithmetic instead of seven `getUTC*` calls per value.
 */
function civil(days: number, f: Fields): void {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  f.d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  f.mo = mp < 10 ? mp + 2 : mp - 10;
  f.y = yoe + era * 400 + (f.mo <= 1 ? 1 : 0);
}

/** A part whose text never changes. */
const constant = (text: string): Part => Object.assign(() => text, { text });

/** One pattern letter repeated `count` times, or null when the letter is unknown. */
function field(letter: string, count: number): Part | null {
  switch (letter) {
    case 'y':
    case 'u':
      return (f) => year(f.y, count);
    case 'M':
    case 'L':
      return (f) => month(f.mo, count);
    case 'd':
      return (f) => pad(f.d, count);
    case 'D':
      return (f) => pad(dayOfYear(f.date), count);
    case 'H':
      return (f) => pad(f.h, count);
    case 'k':
      return (f) => pad(f.h || 24, count);
    case 'K':
      return (f) => pad(f.h % 12, count);
    case 'h':
      return (f) => pad(f.h % 12 || 12, count);
    case 'm':
      return (f) => pad(f.mi, count);
    case 's':
      return (f) => pad(f.s, count);
    case 'S':
      return (f) => fraction(f.ms, f.us, count);
    case 'a':
      return (f) => (f.h < 12 ? 'AM' : 'PM');
    case 'E': {
      return (f) => {
        const day = DAYS[f.date.getUTCDay()]!;
        return count >= 4 ? day : day.slice(0, 3);
      };
    }
    case 'X':
    case 'x':
    case 'Z':
      return constant(offset(letter, count));
    case 'z':
    case 'V':
      return constant('UTC');
    default:
      return null;
  }
}

/** Reads a quoted literal starting at `start` (a `'`); `''` inside or alone is one quote. */
function literal(pattern: string, start: number): { text: string; end: number } {
  if (pattern[start + 1] === "'") return { text: "'", end: start + 2 };
  let text = '';
  let i = start + 1;
  while (i < pattern.length) {
    if (pattern[i] === "'") {
      if (pattern[i + 1] !== "'") return { text, end: i + 1 };
      text += "'";
      i += 2;
    } else text += pattern[i++];
  }
  throw new Error(`unterminated quoted literal starting at position ${start + 1}`);
}

/**
 * Compiles a pattern into a UTC formatter; throws naming the first unknown letter, so option
 * validation can reject a bad pattern before any row is written. `micros` (0–999, beyond the
 * date's milliseconds) is printed by a fraction of more than three `S`; fewer truncate.
 *
 * @example compilePattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX")(new Date(0)) // '1970-01-01T00:00:00.000Z'
 * @example compilePattern('HH:mm:ss.SSSSSS')(new Date(1), 2) // '00:00:00.001002'
 */
export function compilePattern(pattern: string): (d: Date, micros?: number) => string {
  const parts: Part[] = [];
  const push = (part: Part) => {
    const last = parts.at(-1) as (Part & { text?: string }) | undefined;
    const text = (part as Part & { text?: string }).text;
    if (last?.text !== undefined && text !== undefined) parts[parts.length - 1] = constant(last.text + text);
    else parts.push(part);
  };
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === "'") {
      const { text, end } = literal(pattern, i);
      push(constant(text));
      i = end;
    } else if (/[A-Za-z]/.test(ch)) {
      let count = 1;
      while (pattern[i + count] === ch) count++;
      const part = field(ch, count);
      if (!part) throw new Error(`unknown pattern letter '${ch}' at position ${i + 1}`);
      push(part);
      i += count;
    } else {
      let j = i;
      while (j < pattern.length && pattern[j] !== "'" && !/[A-Za-z]/.test(pattern[j]!)) j++;
      push(constant(pattern.slice(i, j)));
      i = j;
    }
  }
  const general = formatter(parts);
  const iso = ISO_PATTERNS[pattern];
  if (iso === undefined) return general;
  // The defaults are ISO 8601 in UTC: the native toISOString, for the years it prints with 4 digits.
  return (date) => {
    const t = date.getTime();
    return t >= YEAR_0 && t < YEAR_10000
      ? iso
        ? date.toISOString().slice(0, iso)
        : date.toISOString()
      : general(date);
  };
}

/** Patterns that equal `toISOString()` (0: whole) or a prefix of it (its length), in UTC. */
const ISO_PATTERNS: Record<string, number> = { "yyyy-MM-dd'T'HH:mm:ss.SSSXXX": 0, 'yyyy-MM-dd': 10 };

/** How many characters of `toISOString()` a pattern prints for years 0000–9999 (24 or 10), else null. */
export function isoLength(pattern: string): 24 | 10 | null {
  const iso = ISO_PATTERNS[pattern];
  return iso === undefined ? null : iso === 10 ? 10 : 24;
}
/** 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in epoch milliseconds. */
const YEAR_0 = -62_167_219_200_000;
const YEAR_10000 = 253_402_300_800_000;

function formatter(parts: Part[]): (date: Date, micros?: number) => string {
  const f: Fields = { y: 0, mo: 0, d: 0, h: 0, mi: 0, s: 0, ms: 0, us: 0, date: new Date(0) };
  let lastDay = Number.NaN;
  return (date, micros = 0) => {
    const t = date.getTime();
    const day = Math.floor(t / 86_400_000);
    if (day !== lastDay) {
      civil(day, f);
      lastDay = day;
    }
    let rest = t - day * 86_400_000;
    f.ms = rest % 1000;
    rest = (rest - f.ms) / 1000;
    f.s = rest % 60;
    rest = (rest - f.s) / 60;
    f.mi = rest % 60;
    f.h = (rest - f.mi) / 60;
    f.us = micros;
    f.date = date;
    let out = '';
    for (let k = 0; k < parts.length; k++) out += parts[k]!(f);
    return out;
  };
}

/** The error message for a bad pattern, or null when it compiles (for option validation). */
export function patternProblem(pattern: string): string | null {
  try {
    compilePattern(pattern);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
