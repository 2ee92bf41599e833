import { describe, expect, it } from 'vitest';
import { CsvParser, type CsvRecord, CsvSyntaxError, type ParserOptions } from './csv-parser.ts';

const defaults: ParserOptions = { delimiter: ',', quote: '"', escape: '\\', escapeEscape: '\\' };

/** Parses text fed in pieces of `size` characters. */
function parse(text: string, options: Partial<ParserOptions> = {}, size = text.length || 1): CsvRecord[] {
  const parser = new CsvParser({ ...defaults, ...options });
  const out: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...parser.push(text.slice(i, i + size)));
  out.push(...parser.end());
  return out;
}
const fields = (text: string, options: Partial<ParserOptions> = {}, size?: number) =>
  parse(text, options, size).map((r) => r.fields);

describe('CsvParser', () => {
  it('splits records on LF, CRLF and CR, with or without a final line break', () => {
    expect(fields('a,b\nc,d')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(fields('a,b\r\nc,d\r\n')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(fields('a\rb\r')).toEqual([['a'], ['b']]);
    expect(fields('a,\n,b,')).toEqual([
      ['a', ''],
      ['', 'b', ''],
    ]);
  });

  it('reads quoted fields with delimiters, line breaks, doubled quotes and backslash escapes', () => {
    const text = '"a,b","l1\r\nl2","say ""hi""","x\\"y\\\\z","C:\\dir"\n';
    for (const size of [1, 2, 3, 1000]) {
      expect(fields(text, {}, size)).toEqual([['a,b', 'l1\r\nl2', 'say "hi"', 'x"y\\z', 'C:\\dir']]);
    }
  });

  it('supports other quote and escape characters, and no quoting at all', () => {
    expect(fields("'it''s';'a;b'", { delimiter: ';', quote: "'", escape: "'", escapeEscape: '' })).toEqual([
      ["it's", 'a;b'],
    ]);
    expect(fields('"a"|b"c', { delimiter: '|', quote: '' })).toEqual([['"a"', 'b"c']]);
    expect(fields('"a#\\b\\"c"', { escapeEscape: '#' })).toEqual([['a\\b"c']]);
  });

  it('turns unquoted nullValue fields into null but keeps quoted ones', () => {
    expect(fields('NULL,"NULL",,""', { nullValue: 'NULL' })).toEqual([[null, 'NULL', '', '']]);
    expect(fields(',""', { nullValue: '' })).toEqual([[null, '']]);
  });

  it('marks blank lines and counts physical lines', () => {
    const records = parse('a\n\n"x\ny"\nb\n');
    expect(records.map((r) => [r.line, r.blank])).toEqual([
      [1, false],
      [2, true],
      [3, false],
      [5, false],
    ]);
  });

  it('reports an unterminated quote with the line it opened on', () => {
    expect(() => parse('a\n"open\nstill open')).toThrow(CsvSyntaxError);
    expect(() => parse('a\n"open\nstill open')).toThrow(/^line 2: unterminated quoted field/);
  });
});
