import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { parse, toConfigIssues } from '../../../core/validate.ts';
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
    const out = parse(csvOptions, { sep: '\\t', charset: 'utf-16le', quote: '', nullValue: '\\N' });
    expect(out).toMatchObject({ delimiter: '\t', encoding: 'UTF-16LE', quote: '', nullValue: '\\N' });
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

  it('refuses null and empty markers that could not be read back as themselves, naming the field', () => {
    const only = (input: unknown) =>
      toConfigIssues(v.safeParse(csvOptions, input).issues ?? []).map((i) => [i.path, i.message]);
    expect(only({ quote: '' })).toEqual([
      [
        'nullValue',
        expect.stringMatching(/nullValue "" with quoting disabled .* writes null and the empty string alike/),
      ],
    ]);
    expect(only({ emptyValue: '' })).toEqual([
      ['emptyValue', expect.stringMatching(/emptyValue must differ from nullValue/)],
    ]);
    expect(only({ nullValue: 'N', emptyValue: 'N' })).toEqual([
      ['emptyValue', expect.stringMatching(/must differ from nullValue/)],
    ]);
    expect(only({ nullValue: 'a,b' })).toEqual([
      ['nullValue', expect.stringMatching(/must not hold the delimiter or a line break/)],
    ]);
    expect(only({ nullValue: 'N|A', lineSep: '|' })).toEqual([
      ['nullValue', expect.stringMatching(/must not hold the delimiter or a line break/)],
    ]);
    expect(only({ emptyValue: 'E\nE' })).toEqual([
      ['emptyValue', expect.stringMatching(/must not hold the delimiter or a line break/)],
    ]);
    expect(only({ nullValue: '"NULL"' })).toEqual([
      ['nullValue', expect.stringMatching(/must not hold the quote character/)],
    ]);
    expect(only({ emptyValue: "''", quote: "'" })).toEqual([]);
    expect(only({ emptyValue: '"E"' })).toEqual([
      ['emptyValue', expect.stringMatching(/must not hold the quote character/)],
    ]);
    // What does read back: a marker of its own with quoting off, a quote character with quoting off.
    expect(only({ quote: '', nullValue: '\\N' })).toEqual([]);
    expect(only({ quote: '', nullValue: '"' })).toEqual([]);
    expect(only({ nullValue: 'NULL', emptyValue: 'EMPTY' })).toEqual([]);
  });
});
