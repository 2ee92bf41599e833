import { describe, expect, it } from 'vitest';
import type { Expr } from './ast.ts';
import { RuleSyntaxError } from './errors.ts';
import { MAX_DEPTH, parseRule } from './parser.ts';
import { printRule } from './printer.ts';
import { compileRule } from './index.ts';

function syntaxError(source: string, compile = false): RuleSyntaxError {
  try {
    if (compile) compileRule(source);
    else parseRule(source);
  } catch (error) {
    if (error instanceof RuleSyntaxError) return error;
    throw error;
  }
  throw new Error(`no error for ${source}`);
}

describe('parseRule', () => {
  it('builds the tree with spans', () => {
    const ast = parseRule('country = "FR"');
    expect(ast).toEqual({
      type: 'compare',
      op: '=',
      left: { type: 'field', path: ['country'], start: 0, end: 7 },
      right: { type: 'literal', value: 'FR', start: 10, end: 14 },
      start: 0,
      end: 14,
    });
  });

  it.each([
    ['a = 1 or b = 2 and c = 3', 'a = 1 or b = 2 and c = 3', 'or'],
    ['(a = 1 or b = 2) and c = 3', '(a = 1 or b = 2) and c = 3', 'and'],
    ['not a = 1 and b', 'not a = 1 and b', 'and'],
    ['not (a = 1 and b)', 'not (a = 1 and b)', 'not'],
    ['a and (b and c)', 'a and (b and c)', 'and'],
    ['x not in [1, 2,]', 'not x in [1, 2]', 'not'],
    ['x not exists', 'not x exists', 'not'],
    ['now - 1d - 2h > t', 'now - 1d - 2h > t', 'compare'],
    ['now - (1d - 2h) > t', 'now - (1d - 2h) > t', 'compare'],
    ['a\n  ==\t-1.5e3', 'a = -1500', 'compare'],
    ['`first name` = "x\\"y\\u00e9"', '`first name` = "x\\"yé"', 'compare'],
    ['d = @2024-01-31T08:00:00+01:00', 'd = @2024-01-31T08:00:00+01:00', 'compare'],
    ['lower(identities.email) endsWith "@x.io"', 'lower(identities.email) endsWith "@x.io"', 'compare'],
  ])('%s prints as %s', (source, printed, type) => {
    const ast = parseRule(source);
    expect(ast.type).toBe(type);
    expect(printRule(ast)).toBe(printed);
  });

  it('keeps durations and dates as written, with their values', () => {
    const ast = parseRule('t > @2024-01-01 - -1.5h') as Expr & { type: 'compare' };
    expect(ast.right).toMatchObject({
      type: 'arithmetic',
      left: { type: 'date', text: '2024-01-01', ms: Date.UTC(2024, 0, 1) },
      right: { type: 'duration', value: -1.5, unit: 'h' },
    });
  });
});

describe('syntax errors', () => {
  it.each([
    ['country = ', 1, 11, 'a value', 'end of rule'],
    ['country = "FR" and', 1, 19, 'a value', 'end of rule'],
    ['country = "FR" "DE"', 1, 16, 'an operator', '"\\"DE\\""'],
    ['a =\n  "unterminated', 2, 3, 'a closing quote', 'an unterminated string'],
    ['a = "bad \\q"', 1, 10, 'an escape', '"\\\\q\\""'],
    ['(a = 1', 1, 7, '")" to close the "(" at line 1, column 1', 'end of rule'],
    ['a = 1)', 1, 6, 'an operator', '")"'],
    ['a = 1 = 2', 1, 7, 'comparisons do not chain', '"="'],
    ['country equals "FR"', 1, 9, 'an operator (=, !=', '"equals"'],
    ['name startswith "A"', 1, 6, 'did you mean startsWith?', '"startswith"'],
    ['name startswth "A"', 1, 6, 'did you mean startsWith?', '"startswth"'],
    ['lowr(a) = "x"', 1, 1, 'a known function (did you mean lower?)', '"lowr"'],
    ['t > now - 30x', 1, 13, 'a duration unit', '"x"'],
    ['t > @2024-13-01', 1, 5, 'a real calendar date', '"@2024-13-01"'],
    ['t > @yesterday', 1, 5, 'an ISO 8601 date', '"@yesterday"'],
    ['in = 1', 1, 1, 'quote a field named in with backticks', '"in"'],
    ['a = [1, 2', 1, 10, ', or ]', 'end of rule'],
    ['unknownFn(a) = 1', 1, 1, 'a known function (lower, upper, length)', '"unknownFn"'],
    ['lower(a, b) = 1', 1, 1, '1 argument(s) for lower()', '2'],
    ['a = 1 && b = 2', 1, 7, 'a value, a field or an operator', '"&"'],
    ['a.', 1, 3, 'a field name after "."', 'end of rule'],
    ['a = -b', 1, 6, 'a number or a duration after a minus sign', '"b"'],
    ['a = ``', 1, 5, 'a field name', 'empty backticks'],
    ['a not = 1', 1, 7, 'in, exists or a word operator after not', '"="'],
  ])('%j → line %i, column %i', (source, line, column, expected, found) => {
    const error = syntaxError(source);
    expect(error.line).toBe(line);
    expect(error.column).toBe(column);
    expect(error.expected).toContain(expected);
    expect(error.found).toBe(found);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.details).toMatchObject({ line, column, expected: error.expected, found });
  });

  it('shows the offending line with a caret under the culprit', () => {
    const error = syntaxError('country = "FR"\n  and age >> 3');
    expect(error.message).toBe(
      'Rule error at line 2, column 12: expected a value (string, number, @date, duration, now, field, list, function or parenthesis), found ">"\n' +
        '    and age >> 3\n' +
        '             ^',
    );
  });

  it('cuts the excerpt of a very long line around the culprit', () => {
    const error = syntaxError(`${'a = 1 and '.repeat(1000)}b = `);
    const [text, carets] = error.details.excerpt.split('\n') as [string, string];
    expect(text.length).toBeLessThan(140);
    expect(text.startsWith('  …')).toBe(true);
    expect(carets.indexOf('^')).toBe(text.length);
  });

  it.each([
    ['lastPurchase > 30d', 16, 'a duration only added to or subtracted from a date'],
    ['30d', 1, 'a duration only added to or subtracted from a date'],
    ['now + now > now', 1, 'a duration to add to or subtract from a date'],
    ['1d - now > now', 1, 'a date before "- duration"'],
    ['(a = 1) + 1d > now', 2, 'a date on the left of a duration'],
    ['tags contains 2h', 15, 'a duration only added'],
  ])('rejects misused durations at compile time: %s', (source, column, expected) => {
    const error = syntaxError(source, true);
    expect(error.column).toBe(column);
    expect(error.expected).toContain(expected);
  });

  it('refuses nesting deeper than MAX_DEPTH with a positioned error, not a stack overflow', () => {
    for (const source of [
      '('.repeat(100_000),
      `${'not '.repeat(50_000)}a`,
      `a = ${'['.repeat(50_000)}`,
      `a = ${'1 + '.repeat(50_000)}1`,
      `${'lower('.repeat(50_000)}a`,
    ]) {
      const error = syntaxError(source);
      expect(error.expected).toMatch(new RegExp(`at most ${MAX_DEPTH}`));
    }
    expect(() => compileRule(`${'('.repeat(MAX_DEPTH - 1)}a = 1${')'.repeat(MAX_DEPTH - 1)}`)).not.toThrow();
  });

  it('accepts long flat conjunctions without deep recursion', () => {
    const source = Array.from({ length: 20_000 }, (_, i) => `a${i} = ${i}`).join(' and ');
    const rule = compileRule(source);
    expect(rule({ attributes: { a0: 0 } }, new Date())).toBe(false);
  });
});
