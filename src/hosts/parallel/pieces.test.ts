import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvParser, CsvSyntaxError, type ParserOptions } from '../../core/csv-parser.ts';
import { CsvRecordEnds, headerEnd, lastLineEnd } from './pieces.ts';

const encoder = new TextEncoder();

/** The records' fields (and blankness) of `text` read whole, or the syntax error's message. */
function records(text: string, options: ParserOptions): string {
  const parser = new CsvParser(options);
  try {
    return JSON.stringify([...parser.push(text), ...parser.end()].map((r) => [r.fields, r.blank]));
  } catch (error) {
    if (error instanceof CsvSyntaxError) return 'syntax error';
    throw error;
  }
}

/** Every record end the scanner reports, fed the bytes in pieces of the given sizes. */
function ends(bytes: Uint8Array, options: ParserOptions, sizes: number[]): number[] {
  const scanner = new CsvRecordEnds(options);
  const found: number[] = [];
  let from = 0;
  for (let k = 0; from < bytes.length; k++) {
    const to = Math.min(bytes.length, from + sizes[k % sizes.length]!);
    // One byte at a time within the piece, so every end is seen, not only the last of a piece.
    for (let i = from; i < to; i++) {
      const end = scanner.scan(bytes, i, i + 1);
      if (end > 0) found.push(end);
    }
    from = to;
  }
  return found;
}

const options = fc.record({
  delimiter: fc.constantFrom(',', ';', '\t'),
  quote: fc.constantFrom('"', "'", ''),
  escape: fc.constantFrom('\\', '"'),
  escapeEscape: fc.constantFrom('', '\\', '#'),
});
const tokens = ['a', 'é', '"', "'", '\\', '#', ',', ';', '\t', '\n', '\r', '\r\n', ' '];
/** Random text made of the characters that matter: quotes, escapes, delimiters and line breaks. */
const noise = fc.array(fc.constantFrom(...tokens), { maxLength: 12 }).map((parts) => parts.join(''));
/**
 * CSV text under the options: records of fields, some quoted with their quotes escaped (so that line
 * breaks, delimiters and escapes sit inside quotes), some raw, with noise between them now and then.
 */
const csvText = (o: ParserOptions) =>
  fc
    .array(
      fc.tuple(
        fc.array(fc.tuple(fc.boolean(), noise), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.option(noise, { freq: 5 }),
      ),
      { maxLength: 6 },
    )
    .map((records) =>
      records
        .map(([fields, end, extra]) => {
          const text = fields
            .map(([quoted, field]) => (quoted && o.quote ? o.quote + field.replaceAll(o.quote, o.escape + o.quote) + o.quote : field))
            .join(o.delimiter);
          return text + end + (extra ?? '');
        })
        .join(''),
    );

describe('CsvRecordEnds', () => {
  it('cuts only where the parser ends a record: the two halves read as the whole does', () => {
    fc.assert(
      fc.property(options.chain((o) => fc.tuple(fc.constant(o), csvText(o))), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }), ([o, text], sizes) => {
        const bytes = encoder.encode(text);
        const decoder = new TextDecoder();
        const whole = records(text, o);
        for (const end of ends(bytes, o, sizes)) {
          const head = decoder.decode(bytes.subarray(0, end));
          const tail = decoder.decode(bytes.subarray(end));
          // Never between the CR and LF of a CRLF, never inside a quoted field.
          expect(head.endsWith('\r') && tail.startsWith('\n')).toBe(false);
          const split = [records(head, o), records(tail, o)];
          if (whole === 'syntax error') continue;
          expect(split).not.toContain('syntax error');
          expect(JSON.stringify([...JSON.parse(split[0]!), ...JSON.parse(split[1]!)])).toBe(whole);
        }
      }),
      { seed: 20261205, numRuns: 3000 },
    );
  });

  it('finds every record end of plain RFC 4180 text', () => {
    const text = 'a,"b\nc",d\r\n"e""f",g\rh,i\n';
    const o = { delimiter: ',', quote: '"', escape: '"', escapeEscape: '' };
    expect(ends(encoder.encode(text), o, [3])).toEqual([11, 20, 24]);
  });

  it('refuses options whose special characters are not one ASCII byte', () => {
    expect(CsvRecordEnds.supports({ delimiter: ',', quote: '"', escape: '\\', escapeEscape: '' })).toBe(true);
    expect(CsvRecordEnds.supports({ delimiter: '§', quote: '"', escape: '\\', escapeEscape: '' })).toBe(false);
  });
});

describe('headerEnd and lastLineEnd', () => {
  it('the header ends after the first non-blank record, quoted line breaks included', () => {
    const o = { delimiter: ',', quote: '"', escape: '"', escapeEscape: '' };
    // Two blank lines, then the header "a\nb",c and its CRLF: 3 + 9 bytes.
    expect(headerEnd(encoder.encode('\r\n\n"a\nb",c\r\nx,y\n'), o)).toBe(12);
    expect(headerEnd(encoder.encode('a,b'), o)).toBe(-1);
  });

  it('an NDJSON piece ends after its last LF', () => {
    const bytes = encoder.encode('{"a":1}\n{"a":2}\n{"a"');
    expect(lastLineEnd(bytes, bytes.length)).toBe(16);
    expect(lastLineEnd(bytes, 5)).toBe(-1);
  });
});
