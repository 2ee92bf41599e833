import { describe, expect, it } from 'vitest';
import { parse } from '../../../core/validate.ts';
import { csvOptions } from './options.ts';
import { configError } from '../../../../test/support/config-error.ts';

const problems = (input: unknown) => configError(() => parse(csvOptions, input, 'format/csv options')).issues;

describe('csvOptions', () => {
  it("fills Spark's defaults (header true is ours)", () => {
    expect(parse(csvOptions, {})).toEqual({
      delimiter: ',',
      quote: '"',
      escape: '\\',
      escapeQuotes: true,
      quoteAll: false,
      header: true,
      nullValue: '',
      dateFormat: 'yyyy-MM-dd',
      timestampFormat: "yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
      lineSep: '\n',
      encoding: 'UTF-8',
      ignoreLeadingWhiteSpace: true,
      ignoreTrailingWhiteSpace: true,
    });
  });

  it('accepts aliases and the text "\\t", and re-parses its own output unchanged', () => {
    const out = parse(csvOptions, { sep: '\\t', charset: 'utf-16le', quote: '' });
    expect(out).toMatchObject({ delimiter: '\t', encoding: 'UTF-16LE', quote: '' });
    expect(parse(csvOptions, out)).toEqual(out);
  });

  it('lists every problem with its path, expectation and received value', () => {
    const issues = problems({
      delimiter: ';;',
      quote: 'ab',
      escape: '',
      lineSep: '\r\n\r',
      encoding: 'latin1',
      header: 'yes',
      dateFormat: 'yyyy-qq',
      delimeter: ',',
    });
    expect(issues.map((i) => i.path).sort()).toEqual(
      ['dateFormat', 'delimeter', 'delimiter', 'encoding', 'escape', 'header', 'lineSep', 'quote'].sort(),
    );
    const delimiter = issues.find((i) => i.path === 'delimiter')!;
    expect(delimiter.message).toMatch(/exactly one character/);
    expect(delimiter).toMatchObject({ expected: '1', received: '2' });
    expect(issues.find((i) => i.path === 'delimeter')!.message).toMatch(/unknown CSV option "delimeter"/);
    expect(issues.find((i) => i.path === 'encoding')!.message).toMatch(
      /UTF-8, UTF-16, UTF-16LE, UTF-16BE, got "latin1"/,
    );
  });

  it('refuses conflicting characters', () => {
    expect(problems({ delimiter: '"' }).map((i) => i.path)).toEqual(['quote']);
    expect(problems({ delimiter: '\n' }).map((i) => i.path)).toEqual(['delimiter']);
    expect(problems({ sep: ';', delimiter: ',' }).map((i) => i.path)).toEqual(['sep']);
    expect(problems({ escape: ',' }).map((i) => i.path)).toEqual(['escape']);
  });
});
