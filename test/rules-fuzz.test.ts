import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Expr } from '../src/core/rules/ast.ts';
import { compileAst, parseRule, printRule, RuleSyntaxError } from '../src/core/rules/index.ts';

/** Parse must give a tree or a positioned RuleSyntaxError inside the source, and nothing else. */
function parseOrPositionedError(source: string): void {
  try {
    const ast = parseRule(source);
    expect(typeof ast.type).toBe('string');
  } catch (error) {
    if (!(error instanceof RuleSyntaxError)) throw error;
    expect(error.line).toBeGreaterThanOrEqual(1);
    expect(error.column).toBeGreaterThanOrEqual(1);
    expect(error.details.start).toBeLessThanOrEqual(source.length);
    expect(error.expected.length).toBeGreaterThan(0);
    expect(error.found.length).toBeGreaterThan(0);
    expect(error.message).toContain('^');
  }
}

/** Drops spans so trees parsed from different texts compare equal. */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => k !== 'start' && k !== 'end')
      .map(([k, v]) => [k, strip(v)]),
  );
}

const span = { start: 0, end: 0 };
const ident = fc.stringMatching(/^[A-Za-z_$][A-Za-z0-9_$]{0,7}$/);
const quotedName = fc
  .string({ minLength: 1, maxLength: 8, unit: 'grapheme' })
  .filter((s) => !/[`\n\r]/.test(s));
const segment = fc.oneof({ weight: 4, arbitrary: ident }, { weight: 1, arbitrary: quotedName });
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const isoDate = fc
  .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .chain((d) => fc.constantFrom(d.toISOString(), d.toISOString().slice(0, 10)));

const leaf: fc.Arbitrary<Expr> = fc.oneof(
  fc
    .oneof(fc.string({ unit: 'binary', maxLength: 10 }), finite, fc.boolean(), fc.constant(null))
    .map((value) => ({ type: 'literal', value, ...span }) as Expr),
  isoDate.map(
    (text) =>
      ({
        type: 'date',
        text,
        ms: Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text),
        ...span,
      }) as Expr,
  ),
  fc
    .record({ value: finite, unit: fc.constantFrom('w', 'd', 'h', 'm', 's', 'ms') as fc.Arbitrary<'d'> })
    .map((d) => ({ type: 'duration', ...d, ...span }) as Expr),
  fc.constant({ type: 'now', ...span } as Expr),
  fc.array(segment, { minLength: 1, maxLength: 3 }).map((path) => ({ type: 'field', path, ...span }) as Expr),
);

const ops = ['=', '!=', '<', '<=', '>', '>=', 'in', 'contains', 'startsWith', 'endsWith'];

/** Syntax trees the parser can produce (after printing): the round-trip and compile fuzz use them. */
const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('expr'), { maxLength: 3 }).map((items) => ({ type: 'list', items, ...span }) as Expr),
    fc
      .record({ name: fc.constantFrom('lower', 'upper', 'length'), args: fc.tuple(tie('expr')) })
      .map((c) => ({ type: 'call', ...c, ...span }) as Expr),
    fc
      .record({ op: fc.constantFrom('+', '-') as fc.Arbitrary<'+'>, left: tie('expr'), right: tie('expr') })
      .map((a) => ({ type: 'arithmetic', ...a, ...span }) as Expr),
    fc
      .record({ op: fc.constantFrom(...ops), left: tie('expr'), right: tie('expr') })
      .map((c) => ({ type: 'compare', ...c, ...span }) as Expr),
    tie('expr').map((operand) => ({ type: 'exists', operand, ...span }) as Expr),
    tie('expr').map((operand) => ({ type: 'not', operand, ...span }) as Expr),
    fc
      .record({
        type: fc.constantFrom('and', 'or') as fc.Arbitrary<'and'>,
        items: fc.array(tie('expr'), { minLength: 2, maxLength: 4 }),
      })
      .map((l) => ({ ...l, ...span }) as Expr),
  ),
}));

const tokens = [
  'country',
  'identities.email',
  'attributes.a.b',
  '`odd name`',
  'now',
  'true',
  'false',
  'null',
  '"FR"',
  '"a\\"b"',
  '"\\u00e9"',
  '"unterminated',
  '42',
  '-3.5',
  '1e3',
  '30d',
  '12h',
  '15m',
  '10s',
  '2w',
  '5ms',
  '7x',
  '@2024-01-01',
  '@2024-01-01T00:00:00Z',
  '@2024-02-30',
  '@',
  '=',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '+',
  '-',
  'and',
  'or',
  'not',
  'in',
  'exists',
  'contains',
  'startsWith',
  'endsWith',
  'lower(',
  'length(',
  '(',
  ')',
  '[',
  ']',
  ',',
  '.',
  '`',
  '!',
  '&&',
  '\\',
  '#',
  '\u00e9',
  '😀',
  '\u2028',
];
const nearValid = fc
  .array(fc.tuple(fc.constantFrom(...tokens), fc.constantFrom(' ', '', '\n', '\t', '  ')), { maxLength: 25 })
  .map((parts) => parts.map(([t, s]) => t + s).join(''));

/** A printed valid rule with one random edit: a deletion, an insertion or a truncation. */
const mutated = fc
  .tuple(expr.map(printRule), fc.nat(), fc.nat({ max: 3 }), fc.constantFrom(...tokens))
  .map(([text, at, kind, insert]) => {
    const i = text.length === 0 ? 0 : at % text.length;
    if (kind === 0) return text.slice(0, i) + text.slice(i + 1);
    if (kind === 1) return text.slice(0, i) + insert + text.slice(i);
    if (kind === 2) return text.slice(0, i);
    return text.slice(i) + text.slice(0, i);
  });

const profile = fc.record(
  {
    id: fc.anything(),
    identities: fc.oneof(fc.dictionary(ident, fc.array(fc.string())), fc.anything()),
    attributes: fc.oneof(fc.dictionary(ident, fc.oneof(fc.anything(), fc.date(), isoDate)), fc.anything()),
    updatedAt: fc.oneof(fc.date(), isoDate, fc.anything()),
  },
  { requiredKeys: [] },
);

describe('parser fuzz', () => {
  it('arbitrary strings give a tree or a positioned RuleSyntaxError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), parseOrPositionedError), {
      numRuns: 5000,
    });
  });

  it('near-valid token soups give a tree or a positioned RuleSyntaxError', () => {
    fc.assert(fc.property(nearValid, parseOrPositionedError), { numRuns: 5000 });
  });

  it('mutated valid rules give a tree or a positioned RuleSyntaxError', () => {
    fc.assert(fc.property(mutated, parseOrPositionedError), { numRuns: 3000 });
  });

  it('round-trips: print then parse gives the same tree', () => {
    fc.assert(
      fc.property(expr, (ast) => {
        const printed = printRule(ast);
        expect(strip(parseRule(printed))).toEqual(strip(ast));
        expect(printRule(parseRule(printed))).toBe(printed);
      }),
      { numRuns: 3000 },
    );
  });

  it('compiled rules either refuse at compile time with a RuleSyntaxError or never throw', () => {
    fc.assert(
      fc.property(expr, fc.array(profile, { maxLength: 5 }), fc.date(), (ast, profiles, now) => {
        let rule: ReturnType<typeof compileAst>;
        try {
          rule = compileAst(ast);
        } catch (error) {
          expect(error).toBeInstanceOf(RuleSyntaxError);
          return;
        }
        for (const p of profiles) expect(typeof rule(p, now)).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });
});
