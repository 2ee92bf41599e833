import { DURATION_MS, type DurationUnit } from './ast.ts';
import { RuleSyntaxError, describe } from './errors.ts';
import { toTime } from './values.ts';

export type Token =
  | { readonly kind: 'ident'; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: 'quoted'; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: 'string'; readonly value: string; readonly start: number; readonly end: number }
  | { readonly kind: 'number'; readonly value: number; readonly start: number; readonly end: number }
  | {
      readonly kind: 'duration';
      readonly value: number;
      readonly unit: DurationUnit;
      readonly start: number;
      readonly end: number;
    }
  | {
      readonly kind: 'date';
      readonly text: string;
      readonly ms: number;
      readonly start: number;
      readonly end: number;
    }
  | { readonly kind: 'punct'; readonly text: string; readonly start: number; readonly end: number }
  | { readonly kind: 'eof'; readonly start: number; readonly end: number };

/** A bare name: printers quote anything else with backticks. */
export const IDENT = /^[\p{L}_$][\p{L}\p{N}_$]*$/u;
const IDENT_AT = /[\p{L}_$][\p{L}\p{N}_$]*/uy;
const NUMBER_AT = /[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const DATE_AT =
  /[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?/y;
const WORD_CHAR = /[\p{L}\p{N}_$]/u;
const PUNCT = ['<=', '>=', '!=', '==', '=', '<', '>', '+', '-', '(', ')', '[', ']', ',', '.'];
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/** Splits a rule into tokens, throwing a positioned RuleSyntaxError on the first bad character. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const token = readToken(source, i, c);
    tokens.push(token);
    i = token.end;
  }
  tokens.push({ kind: 'eof', start: source.length, end: source.length });
  return tokens;
}

function readToken(source: string, i: number, c: string): Token {
  if (c === '"') return readString(source, i);
  if (c === '`') return readQuotedName(source, i);
  if (c === '@') return readDate(source, i);
  if (c >= '0' && c <= '9') return readNumber(source, i);
  IDENT_AT.lastIndex = i;
  const ident = IDENT_AT.exec(source);
  if (ident) return { kind: 'ident', text: ident[0], start: i, end: i + ident[0].length };
  for (const p of PUNCT) {
    if (source.startsWith(p, i))
      return { kind: 'punct', text: p === '==' ? '=' : p, start: i, end: i + p.length };
  }
  const shown = String.fromCodePoint(source.codePointAt(i)!);
  throw new RuleSyntaxError(source, i, i + shown.length, 'a value, a field or an operator', describe(shown));
}

function readString(source: string, start: number): Token {
  let value = '';
  let i = start + 1;
  for (;;) {
    const c = source[i];
    if (c === undefined || c === '\n' || c === '\r') {
      throw new RuleSyntaxError(source, start, i, 'a closing quote (")', 'an unterminated string');
    }
    if (c === '"') return { kind: 'string', value, start, end: i + 1 };
    if (c !== '\\') {
      value += c;
      i++;
      continue;
    }
    const e = source[i + 1];
    if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) {
      value += String.fromCharCode(Number.parseInt(source.slice(i + 2, i + 6), 16));
      i += 6;
    } else if (e !== undefined && ESCAPES[e] !== undefined) {
      value += ESCAPES[e];
      i += 2;
    } else {
      const found = e === undefined ? 'end of rule' : describe(`\\${source.slice(i + 1, i + 6)}`);
      throw new RuleSyntaxError(
        source,
        i,
        i + 2,
        'an escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)',
        found,
      );
    }
  }
}

function readQuotedName(source: string, start: number): Token {
  const close = source.indexOf('`', start + 1);
  const newline = source.slice(start + 1, close === -1 ? undefined : close).search(/[\n\r]/);
  if (close === -1 || newline !== -1) {
    const end = newline === -1 ? source.length : start + 1 + newline;
    throw new RuleSyntaxError(source, start, end, 'a closing backtick (`)', 'an unterminated field name');
  }
  if (close === start + 1)
    throw new RuleSyntaxError(source, start, close + 1, 'a field name', 'empty backticks');
  return { kind: 'quoted', text: source.slice(start + 1, close), start, end: close + 1 };
}

function readNumber(source: string, start: number): Token {
  NUMBER_AT.lastIndex = start;
  const text = NUMBER_AT.exec(source)![0];
  const value = Number(text);
  let end = start + text.length;
  if (!Number.isFinite(value))
    throw new RuleSyntaxError(source, start, end, 'a finite number', describe(text));
  IDENT_AT.lastIndex = end;
  const suffix = IDENT_AT.exec(source)?.[0];
  if (suffix === undefined) {
    if (end < source.length && WORD_CHAR.test(source[end]!)) {
      throw new RuleSyntaxError(
        source,
        end,
        end + 1,
        'an operator or a space after a number',
        describe(source[end]!),
      );
    }
    return { kind: 'number', value, start, end };
  }
  if (!Object.hasOwn(DURATION_MS, suffix)) {
    throw new RuleSyntaxError(
      source,
      end,
      end + suffix.length,
      'a duration unit (w, d, h, m, s, ms)',
      describe(suffix),
    );
  }
  end += suffix.length;
  return { kind: 'duration', value, unit: suffix as DurationUnit, start, end };
}

function readDate(source: string, start: number): Token {
  DATE_AT.lastIndex = start + 1;
  const m = DATE_AT.exec(source);
  const end = m ? start + 1 + m[0].length : start + 1;
  const expected = 'an ISO 8601 date after @ (@2024-01-31 or @2024-01-31T08:00:00Z)';
  const found = describe(source.slice(start, Math.max(end, start + 12)).split(/\s/)[0]!);
  if (!m || (end < source.length && WORD_CHAR.test(source[end]!))) {
    throw new RuleSyntaxError(source, start, Math.max(end, start + 1), expected, found);
  }
  const ms = toTime(m[0]);
  if (Number.isNaN(ms)) throw new RuleSyntaxError(source, start, end, 'a real calendar date and time', found);
  return { kind: 'date', text: m[0], ms, start, end };
}
