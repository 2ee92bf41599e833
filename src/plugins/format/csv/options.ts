/**
 * The CSV writer options: Spark's names and defaults (DataFrameWriter.csv), validated with valibot.
 * Deliberate deviations from Spark are listed at the top of index.ts.
 */
import * as v from 'valibot';
import { patternProblem } from './datetime.ts';

export type CsvEncoding = 'UTF-8' | 'UTF-16' | 'UTF-16LE' | 'UTF-16BE';

const ENCODINGS: Record<string, CsvEncoding> = {
  'UTF-8': 'UTF-8',
  UTF8: 'UTF-8',
  'UTF-16': 'UTF-16',
  UTF16: 'UTF-16',
  'UTF-16LE': 'UTF-16LE',
  UTF16LE: 'UTF-16LE',
  'UTF-16BE': 'UTF-16BE',
  UTF16BE: 'UTF-16BE',
};

/** Spark accepts the two-character text `\t` (and `\u0000`-style escapes) for a tab or other char. */
function unescapeChar(s: string): string {
  if (s === '\\t') return '\t';
  if (/^\\u[0-9a-fA-F]{4}$/.test(s)) return String.fromCharCode(Number.parseInt(s.slice(2), 16));
  return s;
}

/** One character, or the text `\t` / `\uXXXX` standing for one. */
export function oneChar(field: string) {
  return v.pipe(
    v.string(`${field} must be a string`),
    v.transform(unescapeChar),
    v.length(
      1,
      (issue) =>
        `${field} must be exactly one character (use "\\t" for tab), got ${issue.received} characters`,
    ),
  );
}

/** One character or '' (meaning: disabled). */
export function charOrNone(field: string) {
  return v.pipe(
    v.string(`${field} must be a string`),
    v.transform(unescapeChar),
    v.maxLength(
      1,
      (issue) => `${field} must be one character or "" to disable it, got ${issue.received} characters`,
    ),
  );
}

function pattern(field: string) {
  return v.pipe(
    v.string(`${field} must be a string`),
    v.rawCheck(({ dataset, addIssue }) => {
      const problem = dataset.typed ? patternProblem(dataset.value) : null;
      if (problem) addIssue({ message: `${field} is not a valid date pattern: ${problem}` });
    }),
  );
}

const encoding = v.pipe(
  v.string('encoding must be a string'),
  v.check(
    (s) => s.toUpperCase() in ENCODINGS,
    (issue) => `encoding must be one of UTF-8, UTF-16, UTF-16LE, UTF-16BE, got ${issue.received}`,
  ),
  v.transform((s) => ENCODINGS[s.toUpperCase()]!),
);

const boolean = (field: string, fallback: boolean) =>
  v.optional(v.boolean(`${field} must be true or false`), fallback);

const fields = v.strictObject(
  {
    /** Field separator; any single character. Spark default `,`. */
    delimiter: v.optional(oneChar('delimiter')),
    /** Spark's alias of `delimiter`. */
    sep: v.optional(oneChar('sep')),
    /** Quote character; `""` disables quoting (values are then written raw). Spark default `"`. */
    quote: v.optional(charOrNone('quote'), '"'),
    /** Escapes quote characters inside quoted values; equal to `quote` gives RFC 4180 doubling. Spark default `\`. */
    escape: v.optional(oneChar('escape'), '\\'),
    /** Quote and escape values containing the quote character. Spark default true. */
    escapeQuotes: boolean('escapeQuotes', true),
    /** Quote every non-null, non-empty value. Spark default false. */
    quoteAll: boolean('quoteAll', false),
    /** Write the column names first. Spark's default is false; ours is true. */
    header: boolean('header', true),
    /** Written (raw) for null values. Spark default ''. */
    nullValue: v.optional(v.string('nullValue must be a string'), ''),
    /** Written (raw) for empty strings; default: two quote characters (Spark's `""`), or '' without quoting. */
    emptyValue: v.optional(v.string('emptyValue must be a string')),
    dateFormat: v.optional(pattern('dateFormat'), 'yyyy-MM-dd'),
    timestampFormat: v.optional(pattern('timestampFormat'), "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"),
    /** Written after every row, the last included. One or two characters. Spark default `\n`. */
    lineSep: v.optional(
      v.pipe(
        v.string('lineSep must be a string'),
        v.minLength(1, 'lineSep must not be empty'),
        v.maxLength(2, (issue) => `lineSep must be one or two characters, got ${issue.received} characters`),
      ),
      '\n',
    ),
    encoding: v.optional(encoding),
    /** Spark's alias of `encoding`. */
    charset: v.optional(encoding),
    /** Trim characters U+0001–U+0020 at the start of values. Spark's writer default true. */
    ignoreLeadingWhiteSpace: boolean('ignoreLeadingWhiteSpace', true),
    /** Trim characters U+0001–U+0020 at the end of values. Spark's writer default true. */
    ignoreTrailingWhiteSpace: boolean('ignoreTrailingWhiteSpace', true),
    /** Escapes the escape character inside quoted values; default: `escape` when it differs from `quote`. */
    charToEscapeQuoteEscaping: v.optional(charOrNone('charToEscapeQuoteEscaping')),
  },
  (issue) =>
    issue.expected === 'never' ? `unknown CSV option ${issue.received}` : 'CSV options must be an object',
);

type Fields = v.InferOutput<typeof fields>;

function conflict(field: 'quote' | 'escape', test: (o: Fields) => boolean, message: string) {
  return v.forward(v.check(test, message), [field]);
}

/**
 * nullValue and emptyValue are written raw, so they must read back as themselves: no delimiter or
 * line break (a reader would split there) and, with quoting on, no quote character (a reader would
 * take it for the start of a quoted value) — except an emptyValue that is exactly two quote
 * characters, the quoted empty string.
 */
function markerChecks(field: 'nullValue' | 'emptyValue') {
  const breaks = (o: Fields) => [o.delimiter ?? o.sep ?? ',', '\r', '\n', ...o.lineSep];
  return [
    v.forward(
      v.check(
        (o: Fields) => !breaks(o).some((ch) => (o[field] ?? '').includes(ch)),
        `${field} is written raw, so it must not hold the delimiter or a line break (or a lineSep character): a reader would split the value there`,
      ),
      [field],
    ),
    v.forward(
      v.check(
        (o: Fields) =>
          !o.quote ||
          !(o[field] ?? '').includes(o.quote) ||
          (field === 'emptyValue' && o[field] === o.quote + o.quote),
        `${field} is written unquoted, so it must not hold the quote character: a reader would take it for a quoted value`,
      ),
      [field],
    ),
  ] as const;
}

/** Spark CSV writer options; `csvOptions` output is itself valid input (parsing is idempotent). */
export const csvOptions = v.pipe(
  fields,
  v.forward(
    v.check(
      (o: Fields) => !o.sep || !o.delimiter || o.sep === o.delimiter,
      'delimiter and sep (its alias) differ',
    ),
    ['sep'],
  ),
  v.forward(
    v.check((o: Fields) => !/[\r\n]/.test(o.delimiter ?? o.sep ?? ','), 'delimiter must not be a line break'),
    ['delimiter'],
  ),
  conflict('quote', (o) => o.quote !== (o.delimiter ?? o.sep ?? ','), 'quote must differ from the delimiter'),
  conflict('quote', (o) => !/[\r\n]/.test(o.quote), 'quote must not be a line break'),
  conflict(
    'escape',
    (o) => o.escape !== (o.delimiter ?? o.sep ?? ','),
    'escape must differ from the delimiter',
  ),
  ...markerChecks('nullValue'),
  ...markerChecks('emptyValue'),
  v.forward(
    v.check(
      (o: Fields) => o.quote !== '' || o.emptyValue !== undefined || o.nullValue !== '',
      'nullValue "" with quoting disabled (quote: "") writes null and the empty string alike, as nothing, so no reader can tell them apart: set nullValue to a marker such as "\\N" or "NULL", or keep quoting',
    ),
    ['nullValue'],
  ),
  v.forward(
    v.check(
      (o: Fields) => o.emptyValue === undefined || o.nullValue !== o.emptyValue,
      'emptyValue must differ from nullValue: null and the empty string would be written alike, so no reader could tell them apart',
    ),
    ['emptyValue'],
  ),
  v.transform(({ sep, charset, ...o }) => ({
    ...o,
    delimiter: o.delimiter ?? sep ?? ',',
    encoding: o.encoding ?? charset ?? ('UTF-8' as CsvEncoding),
  })),
);

export type CsvOptionsInput = v.InferInput<typeof csvOptions>;
export type CsvOptions = v.InferOutput<typeof csvOptions>;
