/**
 * Where a text input file can be cut into pieces that parse on their own: after a line break that
 * ends a record. NDJSON: after any LF. CSV: after an LF (or a lone CR) that ends a record, found by the
 * same state machine as src/core/csv-parser.ts run over bytes without building fields (the options'
 * special characters are ASCII, so a UTF-8 byte equals a UTF-16 code unit for each of them).
 */

/** The last place in `bytes[0, length)` where NDJSON can be cut (just after an LF), or -1. */
export function lastLineEnd(bytes: Uint8Array, length: number): number {
  const at = bytes.lastIndexOf(10, length - 1);
  return at < 0 ? -1 : at + 1;
}

const FieldStart = 0;
const Unquoted = 1;
const Quoted = 2;
const QuoteInQuoted = 3;
const EscapeInQuoted = 4;
const EscapeEscapeInQuoted = 5;
const AfterCr = 6;

/** The special characters of a CSV source, each one ASCII character ('' for none). */
export interface CsvBytes {
  readonly delimiter: string;
  readonly quote: string;
  readonly escape: string;
  readonly escapeEscape: string;
}

/**
 * Follows a CSV byte stream from its start and says where records end. `scan` is given the bytes in
 * order (each byte once); it returns the offset just after the last record end in the bytes given,
 * or -1. A CR is a record end only once the next byte is known not to be an LF (so a cut never falls
 * between the two of a CRLF).
 */
export class CsvRecordEnds {
  #state = FieldStart;
  readonly #d: number;
  readonly #q: number;
  readonly #e: number;
  readonly #ee: number;
  readonly #eeIsE: boolean;

  constructor(o: CsvBytes) {
    this.#d = o.delimiter.charCodeAt(0);
    this.#q = o.quote ? o.quote.charCodeAt(0) : -1;
    this.#e = o.escape && o.escape !== o.quote ? o.escape.charCodeAt(0) : -1;
    this.#ee = o.escapeEscape && o.escapeEscape !== o.escape ? o.escapeEscape.charCodeAt(0) : -1;
    this.#eeIsE = o.escapeEscape === o.escape;
  }

  /** Can these options be followed byte by byte (every special character ASCII)? */
  static supports(o: CsvBytes): boolean {
    return [o.delimiter, o.quote, o.escape, o.escapeEscape].every((c) => c.length <= 1 && (c === '' || c.charCodeAt(0) < 0x80));
  }

  scan(bytes: Uint8Array, from: number, to: number): number {
    let last = -1;
    let state = this.#state;
    const d = this.#d;
    const q = this.#q;
    const e = this.#e;
    const ee = this.#ee;
    for (let i = from; i < to; i++) {
      const c = bytes[i]!;
      if (state === AfterCr) {
        // The CR ended a record; an LF after it belongs to it, anything else starts the next one.
        state = FieldStart;
        if (c === 10) {
          last = i + 1;
          continue;
        }
        last = i;
      }
      if (state === FieldStart) {
        if (c === q) {
          state = Quoted;
          continue;
        }
        state = Unquoted;
      }
      if (state === Quoted) {
        if (c === q) state = QuoteInQuoted;
        else if (c === e) state = EscapeInQuoted;
        else if (c === ee) state = EscapeEscapeInQuoted;
        continue;
      }
      if (state === QuoteInQuoted) {
        if (c === q) {
          state = Quoted;
          continue;
        }
        // Lenient: text after the closing quote is an unquoted run of the same field.
        state = Unquoted;
      } else if (state === EscapeInQuoted || state === EscapeEscapeInQuoted) {
        const escaped = state === EscapeInQuoted ? c === q || (c === e && this.#eeIsE) : c === e;
        state = Quoted;
        if (escaped) continue;
        // The escape stood for itself: this byte is read again as quoted text.
        if (c === q) state = QuoteInQuoted;
        else if (c === e) state = EscapeInQuoted;
        else if (c === ee) state = EscapeEscapeInQuoted;
        continue;
      }
      // Unquoted.
      if (c === d) state = FieldStart;
      else if (c === 10) {
        last = i + 1;
        state = FieldStart;
      } else if (c === 13) state = AfterCr;
    }
    this.#state = state;
    return last;
  }
}

/** Where a CSV file's header record (its first non-blank one) ends, just after its line break; -1 if it does not in `bytes`. */
export function headerEnd(bytes: Uint8Array, csv: CsvBytes): number {
  let start = 0;
  while (start < bytes.length && (bytes[start] === 10 || bytes[start] === 13)) start++;
  const scanner = new CsvRecordEnds(csv);
  for (let i = start; i < bytes.length; i++) {
    const end = scanner.scan(bytes, i, i + 1);
    // A CR's record end is known one byte later: the end is where the record's line break stops.
    if (end > 0) return end;
  }
  return -1;
}
