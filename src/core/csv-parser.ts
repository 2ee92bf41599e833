/**
 * A streaming CSV state machine: text chunks in, records out. A record may span any number of
 * chunks (quotes, escapes and CRLF are carried across), and only the current record is held.
 */

export interface ParserOptions {
  readonly delimiter: string;
  /** '' disables quoting: quote characters are then ordinary text. */
  readonly quote: string;
  /** Inside quotes, `escape` + quote is a quote; a doubled quote is always accepted too. */
  readonly escape: string;
  /** Inside quotes, `escapeEscape` + `escape` is a literal escape character; '' for none. */
  readonly escapeEscape: string;
  /** Unquoted fields equal to this become null; undefined keeps every value a string. */
  readonly nullValue?: string;
}

export interface CsvRecord {
  readonly fields: (string | null)[];
  /** Physical line (1-based) the record starts on. */
  readonly line: number;
  /** The line held no character at all. */
  readonly blank: boolean;
}

/** Thrown for input that is not CSV under the options; the caller turns it into SOURCE_INVALID. */
export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const State = {
  FieldStart: 0,
  Unquoted: 1,
  Quoted: 2,
  /** A quote inside a quoted field: the end of the field, or the first half of a doubled quote. */
  QuoteInQuoted: 3,
  /** The escape character inside a quoted field, waiting for the character it escapes. */
  EscapeInQuoted: 4,
  /** The escape-escape character (when distinct from escape) inside a quoted field. */
  EscapeEscapeInQuoted: 5,
  /** A CR ended a record; a following LF belongs to it. */
  AfterCr: 6,
} as const;
type State = (typeof State)[keyof typeof State];

/** The parser; `push` and `end` return the records completed by that input. */
export class CsvParser {
  private state: State = State.FieldStart;
  private field = '';
  private quoted = false;
  private fields: (string | null)[] = [];
  private out: CsvRecord[] = [];
  private line = 1;
  private recordLine = 1;
  private quoteLine = 1;
  private readonly d: number;
  private readonly q: number;
  private readonly e: number;
  private readonly ee: number;

  constructor(private readonly options: ParserOptions) {
    this.d = options.delimiter.charCodeAt(0);
    this.q = options.quote ? options.quote.charCodeAt(0) : -1;
    this.e = options.escape && options.escape !== options.quote ? options.escape.charCodeAt(0) : -1;
    this.ee =
      options.escapeEscape && options.escapeEscape !== options.escape
        ? options.escapeEscape.charCodeAt(0)
        : -1;
  }

  /** Parses the next piece of text. */
  push(text: string): CsvRecord[] {
    const n = text.length;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case State.AfterCr:
          this.state = State.FieldStart;
          if (c === 10) i++;
          break;
        case State.FieldStart:
          if (c === this.q) {
            this.quoted = true;
            this.quoteLine = this.line;
            this.state = State.Quoted;
            i++;
          } else this.state = State.Unquoted;
          break;
        case State.Unquoted:
          i = this.unquoted(text, i);
          break;
        case State.Quoted:
          i = this.quotedRun(text, i);
          break;
        case State.QuoteInQuoted:
          if (c === this.q) {
            this.field += this.options.quote;
            this.state = State.Quoted;
            i++;
          } else this.state = State.Unquoted; // lenient: text after the closing quote is kept
          break;
        case State.EscapeInQuoted:
          this.state = State.Quoted;
          if (c === this.q || (c === this.e && this.options.escapeEscape === this.options.escape)) {
            this.field += text[i];
            i++;
          } else this.field += this.options.escape;
          break;
        case State.EscapeEscapeInQuoted:
          this.state = State.Quoted;
          if (c === this.e) {
            this.field += text[i];
            i++;
          } else this.field += this.options.escapeEscape;
          break;
      }
    }
    return this.take();
  }

  /** Ends the input: finishes the last record or reports an unterminated quote. */
  end(): CsvRecord[] {
    if (
      this.state === State.Quoted ||
      this.state === State.EscapeInQuoted ||
      this.state === State.EscapeEscapeInQuoted
    ) {
      throw new CsvSyntaxError(
        'unterminated quoted field (the quote opened here is never closed)',
        this.quoteLine,
      );
    }
    if (this.state !== State.AfterCr && (this.fields.length > 0 || this.field !== '' || this.quoted))
      this.endRecord();
    return this.take();
  }

  private take(): CsvRecord[] {
    const out = this.out;
    this.out = [];
    return out;
  }

  /** Consumes unquoted text up to a delimiter or line break. */
  private unquoted(text: string, start: number): number {
    let i = start;
    const n = text.length;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === this.d || c === 10 || c === 13) break;
      i++;
    }
    this.field += text.slice(start, i);
    if (i === n) return i;
    const c = text.charCodeAt(i);
    if (c === this.d) {
      this.endField();
      this.state = State.FieldStart;
    } else this.lineBreak(c);
    return i + 1;
  }

  /** Consumes quoted text up to a quote, escape or escape-escape character. */
  private quotedRun(text: string, start: number): number {
    let i = start;
    const n = text.length;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === this.q || c === this.e || c === this.ee) break;
      if (c === 10 || (c === 13 && i + 1 < n && text.charCodeAt(i + 1) !== 10)) this.line++;
      i++;
    }
    this.field += text.slice(start, i);
    if (i === n) return i;
    const c = text.charCodeAt(i);
    this.state =
      c === this.q ? State.QuoteInQuoted : c === this.e ? State.EscapeInQuoted : State.EscapeEscapeInQuoted;
    return i + 1;
  }

  private lineBreak(c: number): void {
    this.endRecord();
    this.line++;
    this.recordLine = this.line;
    this.state = c === 13 ? State.AfterCr : State.FieldStart;
  }

  private endField(): void {
    const { nullValue } = this.options;
    this.fields.push(!this.quoted && nullValue !== undefined && this.field === nullValue ? null : this.field);
    this.field = '';
    this.quoted = false;
  }

  private endRecord(): void {
    const blank = this.fields.length === 0 && this.field === '' && !this.quoted;
    this.endField();
    this.out.push({ fields: this.fields, line: this.recordLine, blank });
    this.fields = [];
  }
}
