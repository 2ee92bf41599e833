/**
 * The UTF-8 CSV row writer: the same bytes as `rowEncoder` + TextEncoder, written straight into
 * `Utf8Chunks`. Plain ASCII strings, integers, doubles, booleans and ISO timestamps are written
 * byte by byte; any value that needs quoting, escaping, trimming or a custom pattern goes through
 * `columnEncoder`'s text and is copied in.
 */
import type { Column, Row, Schema } from '../../../core/types.ts';
import { type TimestampScratch, localTimeIsUtc, readTimestampText } from '../../../core/data/model.ts';
import type { Utf8Chunks } from '../utf8.ts';
import {
  type CsvConfig,
  columnEncoder,
  plainNumbers,
  plainText,
  rowEncoder,
  stringEncoder,
  triggers,
} from './encoder.ts';

type ValueWriter = (value: unknown, out: Utf8Chunks) => void;

const ISO_CHARS = '0123456789-:.TZ';

/**
 * A writer for one non-null string: copies it byte by byte while it is ASCII with no character that
 * makes it quoted and is not the text of nullValue or emptyValue; a value that must be quoted is
 * written quoted and escaped in the same pass when it is ASCII and the quote and escape characters
 * are too. Anything else is written as `stringEncoder` makes it.
 */
function stringWriter(c: CsvConfig): (s: string, out: Utf8Chunks) => void {
  const field = stringEncoder(c);
  const { quote, escape: esc, escapeEscape, quoteAll, trimLeading, trimTrailing, nullValue, emptyValue } = c;
  if (!quote || quoteAll) return (s, out) => out.text(field(s));
  const stops = new Uint8Array(0x80);
  for (const ch of triggers(c)) if (ch !== '' && ch.charCodeAt(0) < 0x80) stops[ch.charCodeAt(0)] = 1;
  const quoteCode = quote.charCodeAt(0);
  const escCode = esc.charCodeAt(0);
  // The character written before an escape character inside quotes (-1: none; esc === quote doubles quotes).
  const escEscCode = esc === quote || !escapeEscape ? -1 : escapeEscape.charCodeAt(0);
  const asciiQuoting = quoteCode < 0x80 && escCode < 0x80 && escEscCode < 0x80;
  const quoted = (s: string, out: Utf8Chunks): void => {
    const n = s.length;
    out.reserve(3 * n + 2);
    const buf = out.buf;
    const start = out.pos;
    let p = start;
    buf[p++] = quoteCode;
    for (let i = 0; i < n; i++) {
      const ch = s.charCodeAt(i);
      if (ch >= 0x80) {
        out.text(field(s));
        return;
      }
      if (ch === quoteCode) buf[p++] = escCode;
      else if (ch === escCode && escEscCode >= 0) {
        // stringEncoder escapes escapes first, then quotes: an escapeEscape equal to the quote is escaped too.
        if (escEscCode === quoteCode) buf[p++] = escCode;
        buf[p++] = escEscCode;
      }
      buf[p++] = ch;
    }
    buf[p++] = quoteCode;
    out.pos = p;
  };
  return (s, out) => {
    const n = s.length;
    const first = n === 0 ? 0 : s.charCodeAt(0);
    if (n === 0 || (trimLeading && first <= 32) || (trimTrailing && s.charCodeAt(n - 1) <= 32))
      return out.text(field(s));
    if (first === quoteCode || s === nullValue || s === emptyValue)
      return asciiQuoting ? quoted(s, out) : out.text(field(s));
    out.reserve(n);
    const buf = out.buf;
    const start = out.pos;
    for (let i = 0; i < n; i++) {
      const ch = s.charCodeAt(i);
      // Non-ASCII: the quoting rules may involve it (a non-ASCII delimiter or line separator).
      if (ch >= 0x80) return out.text(field(s));
      if (stops[ch] === 1) return asciiQuoting ? quoted(s, out) : out.text(field(s));
      buf[start + i] = ch;
    }
    out.pos = start + n;
  };
}

/** The writer of one non-null value of a column. */
function columnWriter(column: Column, c: CsvConfig): ValueWriter {
  const encode = columnEncoder(column, c);
  const general: ValueWriter = (v, out) => out.text(encode(v));
  const type = column.type;
  if (type === 'string') {
    const string = stringWriter(c);
    return (v, out) => (typeof v === 'string' ? string(v, out) : general(v, out));
  }
  if (type === 'timestamp' || type === 'date') {
    const iso = type === 'timestamp' ? c.timestampIso : c.dateIso;
    if (iso === null || !plainText(c, ISO_CHARS)) return general;
    // Timestamp text of the common shapes is read without a Date (`readTimestampText`).
    const localUtc = localTimeIsUtc();
    const t: TimestampScratch = { ms: 0, micros: 0, nanos: 0 };
    return (v, out) => {
      const done =
        v instanceof Date
          ? out.iso(v, iso)
          : typeof v === 'string' && readTimestampText(v, localUtc, t) && out.isoMs(t.ms, iso);
      if (!done) general(v, out);
    };
  }
  if (type !== 'integer' && type !== 'double' && type !== 'boolean') return general;
  // Text in a number or boolean column (a CSV source's values) is written as it is, as in a string column.
  const string = stringWriter(c);
  const plain = plainNumbers(c);
  switch (plain ? type : null) {
    case 'integer':
      return (v, out) =>
        typeof v === 'number' && Number.isSafeInteger(v)
          ? out.int(v)
          : typeof v === 'string'
            ? string(v, out)
            : general(v, out);
    case 'double':
      return (v, out) =>
        typeof v === 'number' ? out.double(v) : typeof v === 'string' ? string(v, out) : general(v, out);
    default:
      return (v, out) => (typeof v === 'string' ? string(v, out) : general(v, out));
  }
}

/**
 * Writes whole rows (line separator included) in schema order, like `rowEncoder(schema, c).encode`
 * followed by a UTF-8 TextEncoder. A failing value is reported with its column name, and the bytes
 * of the failing row are taken back.
 */
export function rowWriter(
  schema: Schema,
  c: CsvConfig,
): { header: string; write(row: Row, out: Utf8Chunks): void } {
  const strings = rowEncoder(schema, c);
  const names = schema.map((col) => col.name);
  const writers = schema.map((col) => columnWriter(col, c));
  const encoder = new TextEncoder();
  const constant = (text: string): ((out: Utf8Chunks) => void) => {
    const bytes = encoder.encode(text);
    const only = bytes[0]!;
    return bytes.length === 1 ? (out) => out.byte(only) : (out) => out.bytes(bytes);
  };
  const delimiter = constant(c.delimiter);
  const lineSep = constant(c.lineSep);
  const nullValue = constant(c.nullValue);
  const count = names.length;
  return {
    header: strings.header,
    write(row, out) {
      const start = out.pos;
      try {
        for (let i = 0; i < count; i++) {
          const value = row[names[i]!];
          if (i > 0) delimiter(out);
          if (value == null) nullValue(out);
          else writers[i]!(value, out);
        }
        lineSep(out);
      } catch (error) {
        out.pos = start;
        strings.encode(row); // throws the same error, naming the column
        throw error;
      }
    },
  };
}
