import { describe, expect, it } from 'vitest';
import {
  builtinRegistry,
  compileRule,
  type FunctionDef,
  type OperatorDef,
  parseRule,
  printRule,
  RuleSyntaxError,
} from '../src/core/rules/index.ts';

/** A plugin's operator: `email matches "^a.*@acme\\.com$"`, the pattern compiled once per rule. */
const matches: OperatorDef = {
  name: 'matches',
  description: 'string matches a regular expression',
  test: (left, right) =>
    typeof left === 'string' && typeof right === 'string' && new RegExp(right).test(left),
  prepare: (right) => {
    if (typeof right !== 'string') throw new Error('the pattern must be a string');
    const re = new RegExp(right);
    return (left) => typeof left === 'string' && re.test(left);
  },
};

/** A plugin's function: great-circle distance between a `{lat, lon}` attribute and a point. */
const distanceKm: FunctionDef = {
  name: 'distanceKm',
  arity: 3,
  call: ([from, lat, lon]) => {
    const point = from as { lat?: unknown; lon?: unknown } | null;
    if (typeof point?.lat !== 'number' || typeof point.lon !== 'number') return undefined;
    if (typeof lat !== 'number' || typeof lon !== 'number') return undefined;
    const rad = Math.PI / 180;
    const dLat = (lat - point.lat) * rad;
    const dLon = (lon - point.lon) * rad;
    const a =
      Math.sin(dLat / 2) ** 2 + Math.cos(point.lat * rad) * Math.cos(lat * rad) * Math.sin(dLon / 2) ** 2;
    return 2 * 6371 * Math.asin(Math.sqrt(a));
  },
};

/** An operator that sees lists whole, and one whose test throws. */
const sizeIs: OperatorDef = {
  name: 'sizeIs',
  lists: 'whole',
  test: (left, right) => Array.isArray(left) && left.length === right,
};
const explodes: OperatorDef = {
  name: 'explodes',
  test: () => {
    throw new Error('boom');
  },
};

const registry = builtinRegistry.with({ operators: [matches, sizeIs, explodes], functions: [distanceKm] });
const now = new Date('2024-06-01T00:00:00Z');
const profile = {
  identities: { email: ['ann@acme.com', 'ann@gmail.com'] },
  attributes: { home: { lat: 48.8566, lon: 2.3522 }, tags: ['a', 'b'], name: 'Ann' },
};

describe('operators and functions registered from outside the engine', () => {
  it.each([
    ['identities.email matches "^ann@acme\\\\.com$"', true],
    ['identities.email matches "^bob@"', false],
    ['identities.email not matches "^bob@"', true],
    ['missing matches "x"', false],
    ['distanceKm(home, 48.8049, 2.1204) < 20', true],
    ['distanceKm(home, 45.764, 4.8357) < 20', false],
    ['distanceKm(home, 45.764, 4.8357) > 380', true],
    ['distanceKm(name, 0, 0) < 20', false],
    ['tags sizeIs 2', true],
    ['tags sizeIs 1', false],
    ['name explodes 1', false],
    ['not name explodes 1', true],
  ] as const)('%s → %s', (rule, expected) => {
    expect(compileRule(rule, { registry })(profile, now)).toBe(expected);
  });

  it('prints and re-parses rules using them', () => {
    const source = 'distanceKm(home, 1, 2) < 5 and email matches "^a"';
    expect(printRule(parseRule(source, { registry }))).toBe(source);
  });

  it('leaves the built-in registry unchanged', () => {
    expect(() => compileRule('email matches "x"')).toThrow(RuleSyntaxError);
    expect(() => compileRule('distanceKm(home, 1, 2) < 5')).toThrow(
      /a known function \(lower, upper, length\)/,
    );
  });

  it('turns a failing prepare into a positioned error', () => {
    expect(() => compileRule('email matches "("', { registry })).toThrow(
      /column 15: expected a valid right operand for matches/,
    );
    expect(() => compileRule('email matches 3', { registry })).toThrow(/the pattern must be a string/);
  });

  it('checks arity and names', () => {
    expect(() => compileRule('distanceKm(home) < 5', { registry })).toThrow(
      /3 argument\(s\) for distanceKm\(\)/,
    );
    expect(() => builtinRegistry.with({ operators: [{ ...matches, name: 'and' }] })).toThrow(/not a keyword/);
    expect(() => builtinRegistry.with({ functions: [{ ...distanceKm, name: 'a-b' }] })).toThrow(/identifier/);
  });
});
