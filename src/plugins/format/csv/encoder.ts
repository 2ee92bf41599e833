/**
 * The CSV field and row encoder: Spark/univocity quoting and escaping rules, compiled once per file
 * into closures so the per-value work is a regex test and, rarely, one `replace`.
 */
import type { Column, ColumnType, Row, Schema } from '../../../core/types.ts';
import { type TimestampParts, timestampReader } from '../../../core/data/model.ts';
import { formatDouble } from '../utf8.ts';
import { jsonText } from '../values.ts';
import { compilePattern, isoLength } from './datetime.ts';
import type { CsvOptions } from './options.ts';

/** Options resolved into the characters and functions the encoder runs with. */
export interface CsvConfig {
  readonly delimiter: string;
  /** '' when quoting is disabled. */
  readonly quote: string;
  readonly escape: string;
  /** Escapes the escape character inside quoted values; '' for none. */
  readonly escapeEscape: string;
  readonly escapeQuotes: boolean;
  readonly quoteAll: boolean;
  readonly nullValue: string;
  readonly emptyValue: string;
  readonly lineSep: string;
  readonly trimLeading: boolean;
  readonly trimTrailing: boolean;
  readonly formatDate: (d: Date) => string;
  readonly formatTimestamp: (d: Date, micros?: number) => string;
  /** Characters of `toISOString()` the date / timestamp pattern prints (null: another pattern). */
  readonly dateIso: 24 | 10 | null;
  readonly timestampIso: 24 | 10 | null;
}

/** Applies Spark's derived defaults (emptyValue, charToEscapeQuoteEscaping) to parsed options. */
export function resolveConfig(o: CsvOptions): CsvConfig {
  const escapeEscape = o.charToEscapeQuoteEscaping ?? (o.escape === o.quote ? '' : o.escape);
  return {
    delimiter: o.delimiter,
    quote: o.quote,
    escape: o.escape,
    escapeEscape: escapeEscape === '\0' ? '' : escapeEscape,
    escapeQuotes: o.escapeQuotes,
    quoteAll: o.quoteAll,
    nullValue: o.nullValue,
    emptyValue: o.emptyValue ?? o.quote + o.quote,
    lineSep: o.lineSep,
    trimLeading: o.ignoreLeadingWhiteSpace,
    trimTrailing: o.ignoreTrailingWhiteSpace,
    formatDate: compilePattern(o.dateFormat),
    formatTimestamp: compilePattern(o.timestampFormat),
    dateIso: isoLength(o.dateFormat),
    timestampIso: isoLength(o.timestampFormat),
  };
}

const regexChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Spark's writer trims U+0001–U+0020 (not U+0000, not Unicode spaces). */
const isBlank = (c: number) => c <= 32 && c > 0;

function trimmer(leading: boolean, trailing: boolean): ((s: string) => string) | null {
  if (!leading && !trailing) return null;
  return (s) => {
    let start = 0;
    let end = s.length;
    if (leading) while (start < end && isBlank(s.charCodeAt(start))) start++;
    if (trailing) while (end > start && isBlank(s.charCodeAt(end - 1))) end--;
    return start === 0 && end === s.length ? s : s.slice(start, end);
  };
}

/** Replaces quote and escape characters inside a value that will be quoted. */
function escaper(c: CsvConfig): (s: string) => string {
  const { quote, escape: esc, escapeEscape } = c;
  if (esc === quote) {
    const doubled = quote + quote;
    return (s) => (s.includes(quote) ? s.replaceAll(quote, doubled) : s);
  }
  const escapedQuote = esc + quote;
  const escapedEscape = escapeEscape + esc;
  // Escape characters first, so the ones added before quotes are not escaped again.
  return (s) => {
    const t = escapeEscape && s.includes(esc) ? s.replaceAll(esc, escapedEscape) : s;
    return t.includes(quote) ? t.replaceAll(quote, escapedQuote) : t;
  };
}

/**
 * Encodes one non-null string as a CSV field. Quoted when quoteAll, or when the value starts with the
 * quote, or holds the delimiter, a line break, a lineSep character, the quote (escapeQuotes) or the
 * escape character (when it differs from the quote, so readers that unescape outside quotes agree),
 * or when its text equals `nullValue` or `emptyValue` (so it is not read back as null or empty).
 *
 * With quoting disabled nothing can be told apart that way: a value whose text equals `nullValue` or
 * `emptyValue`, or holds the delimiter or a line break, is refused (TypeError) instead of written as
 * something a reader would take for another value. `lenient` writes such values raw (the header).
 */
export function stringEncoder(c: CsvConfig, lenient = false): (s: string) => string {
  const trim = trimmer(c.trimLeading, c.trimTrailing);
  const { quote, emptyValue, nullValue, quoteAll, trimLeading, trimTrailing } = c;
  if (!quote) {
    if (lenient) return trim ? (s) => trim(s) || emptyValue : (s) => s || emptyValue;
    const breaks = new Set([c.delimiter, '\r', '\n', ...c.lineSep]);
    const unreadable = new RegExp(`[${[...breaks].map(regexChar).join('')}]`);
    return (s) => {
      const text = trim ? trim(s) : s;
      if (text === '') return emptyValue;
      if (text === nullValue) throw unwritable(text, 'nullValue');
      if (text === emptyValue) throw unwritable(text, 'emptyValue');
      if (unreadable.test(text)) throw unwritable(text, 'delimiter');
      return text;
    };
  }
  const needsQuotes = new RegExp(`[${[...triggers(c)].map(regexChar).join('')}]`);
  const quoteCode = quote.charCodeAt(0);
  const escapeInside = escaper(c);
  return (raw) => {
    let s = raw;
    const n = s.length;
    if (n === 0) return emptyValue;
    if (trim && ((trimLeading && s.charCodeAt(0) <= 32) || (trimTrailing && s.charCodeAt(n - 1) <= 32))) {
      s = trim(s);
      if (s === '') return emptyValue;
    }
    if (
      quoteAll ||
      s.charCodeAt(0) === quoteCode ||
      needsQuotes.test(s) ||
      s === nullValue ||
      s === emptyValue
    )
      return quote + escapeInside(s) + quote;
    return s;
  };
}

/** Why a value cannot be written without quoting. */
function unwritable(text: string, clash: 'nullValue' | 'emptyValue' | 'delimiter'): TypeError {
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  const why =
    clash === 'delimiter'
      ? 'holds the delimiter or a line break, so a reader would split it'
      : `equals ${clash}, so a reader would read it as ${clash === 'nullValue' ? 'null' : 'an empty string'}`;
  return new TypeError(`the value ${shown} ${why}, and quoting is disabled (quote: ""): enable quoting`);
}

/** Characters that make a value quoted. */
export function triggers(c: CsvConfig): Set<string> {
  const set = new Set([c.delimiter, '\r', '\n', ...c.lineSep]);
  if (c.escapeQuotes) set.add(c.quote);
  if (c.escape !== c.quote) set.add(c.escape);
  return set;
}

/** The texts numbers and booleans are written as (`String(x)`, `-0.0`, `true`, `false`). */
const NUMBER_TEXT = /^(-?(\d+(\.\d+)?(e[+-]\d+)?|Infinity)|NaN|-0\.0|true|false)$/;

/** True when a number or boolean could be written as the text of nullValue or emptyValue. */
function markerLooksLike(c: CsvConfig, pattern: RegExp): boolean {
  return pattern.test(c.nullValue) || pattern.test(c.emptyValue);
}

/** True when numbers and booleans can never need quoting or trimming under these options. */
export function plainNumbers(c: CsvConfig): boolean {
  if (c.quoteAll && c.quote) return false;
  if (markerLooksLike(c, NUMBER_TEXT)) return false;
  return ![...triggers(c)].some((ch) => ch !== '' && '0123456789.-+eEINaNfinityrueals'.includes(ch));
}

/** True when values made only of `chars` are never quoted, escaped or trimmed under these options. */
export function plainText(c: CsvConfig, chars: string): boolean {
  if (c.quote && (c.quoteAll || chars.includes(c.quote))) return false;
  const only = new RegExp(`^[${[...chars].map(regexChar).join('')}]+$`);
  if (markerLooksLike(c, only)) return false;
  return ![...triggers(c)].some((ch) => ch !== '' && chars.includes(ch));
}

/**
 * Accepts Date, epoch milliseconds (number or bigint) or any string `Date` parses (ISO 8601, whose
 * digits beyond the millisecond are kept as microseconds for patterns that print them).
 */
function toTimestamp(value: unknown, read: (value: unknown) => TimestampParts | null): TimestampParts {
  const t = read(typeof value === 'bigint' ? Number(value) : value);
  if (!t) throw new TypeError(`expected a date or timestamp, got ${describe(value)}`);
  return t;
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return `${typeof value} ${text.length > 40 ? text.slice(0, 40) + '…' : text}`;
}

/** Plain text of a non-null value for a column type, before quoting. */
function textOf(type: ColumnType, c: CsvConfig): (value: unknown) => string {
  if (typeof type === 'object') return jsonText;
  switch (type) {
    case 'timestamp': {
      const read = timestampReader();
      return (value) => {
        const t = toTimestamp(value, read);
        return c.formatTimestamp(new Date(t.ms), t.micros);
      };
    }
    case 'date': {
      const read = timestampReader();
      return (value) => c.formatDate(new Date(toTimestamp(value, read).ms));
    }
    case 'double':
      return (value) => (typeof value === 'number' ? formatDouble(value) : String(value));
    default:
      return (value) =>
        typeof value === 'string'
          ? value
          : value instanceof Date
            ? value.toISOString()
            : typeof value === 'object'
              ? jsonText(value)
              : String(value);
  }
}

/** Encodes one non-null value of a column; numbers and booleans skip quoting when it cannot apply. */
export function columnEncoder(column: Column, c: CsvConfig): (value: unknown) => string {
  const text = textOf(column.type, c);
  const field = stringEncoder(c);
  const plain = plainNumbers(c);
  switch (plain ? column.type : null) {
    case 'integer':
      return (v) => (typeof v === 'number' || typeof v === 'bigint' ? String(v) : field(text(v)));
    case 'double':
      return (v) =>
        typeof v === 'number' ? formatDouble(v) : typeof v === 'bigint' ? String(v) : field(text(v));
    case 'boolean':
      return (v) => (v === true ? 'true' : v === false ? 'false' : field(text(v)));
    case 'string':
      return (v) => field(typeof v === 'string' ? v : text(v));
    default:
      return (v) => field(text(v));
  }
}

/**
 * Encodes whole rows (line separator included) in schema order; null/undefined → nullValue, raw.
 * A failing value is reported with its column name.
 */
export function rowEncoder(schema: Schema, c: CsvConfig): { header: string; encode(row: Row): string } {
  const names = schema.map((col) => col.name);
  const encoders = schema.map((col) => columnEncoder(col, c));
  const field = stringEncoder(c, true);
  const { delimiter, lineSep, nullValue } = c;
  const count = names.length;
  const encodeLine = (row: Row): string => {
    let line = '';
    for (let i = 0; i < count; i++) {
      const value = row[names[i]!];
      if (i > 0) line += delimiter;
      line += value == null ? nullValue : encoders[i]!(value);
    }
    return line + lineSep;
  };
  return {
    header: names.map(field).join(delimiter) + lineSep,
    encode(row) {
      try {
        return encodeLine(row);
      } catch (error) {
        const at = names.findIndex((name, i) => {
          try {
            if (row[name] != null) encoders[i]!(row[name]);
            return false;
          } catch {
            return true;
          }
        });
        throw new TypeError(`column ${JSON.stringify(names[at] ?? '?')}: ${(error as Error).message}`);
      }
    },
  };
}
