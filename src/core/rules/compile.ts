import { DURATION_MS, type Expr, type FieldNode, type Span } from './ast.ts';
import { RuleSyntaxError } from './errors.ts';
import { builtinRegistry, type RuleRegistry } from './registry.ts';
import { compileCompare } from './compare.ts';
import { getSegment, isTrue, isUnsafeKey, toTime } from './values.ts';

/** What a rule is evaluated on. Bare names read `attributes`; `id`, `updatedAt`, `identities` are top-level. */
export interface RuleProfile {
  readonly id?: unknown;
  readonly identities?: unknown;
  readonly attributes?: unknown;
  readonly updatedAt?: unknown;
}

/** A compiled rule: true when the profile belongs to the segment at time `now`. Never throws. */
export type Predicate = (profile: RuleProfile, now: Date | number) => boolean;

export type Test = (p: RuleProfile, now: number) => boolean;
export type Getter = (p: RuleProfile, now: number) => unknown;

/**
 * A compiled operand. `time` values are epoch ms (NaN when not a time); `value` ones are raw profile or
 * literal values; `bool` ones are conditions. `constant` is set when the value is known at compile time.
 */
export type Operand =
  | { readonly kind: 'value'; readonly get: Getter; readonly constant?: { readonly value: unknown } }
  | {
      readonly kind: 'time';
      readonly get: (p: RuleProfile, now: number) => number;
      readonly constant?: { readonly value: number };
    }
  | { readonly kind: 'duration'; readonly ms: number; readonly span: Span }
  | { readonly kind: 'bool'; readonly test: Test };

export interface Compiler {
  readonly source: string;
  readonly registry: RuleRegistry;
  operand(e: Expr): Operand;
  fail(span: Span, expected: string, found: string): never;
}

export interface CompileOptions {
  readonly registry?: RuleRegistry;
  /** The rule text the tree came from, so errors can show an excerpt. */
  readonly source?: string;
}

const ROOTS = new Set(['id', 'updatedAt', 'identities', 'attributes']);

/**
 * Turns a parsed rule into a predicate built from closures (no eval: Workers forbid it). Throws
 * RuleSyntaxError for misuse only visible with types, such as a duration compared to a string.
 */
export function compileAst(ast: Expr, options: CompileOptions = {}): Predicate {
  const compiler = makeCompiler(options.source ?? '', options.registry ?? builtinRegistry);
  const test = asTest(compiler.operand(ast), compiler);
  return (profile, now) => {
    const p = typeof profile === 'object' && profile !== null ? profile : {};
    return test(p, typeof now === 'number' ? now : now instanceof Date ? now.getTime() : Number.NaN);
  };
}

function makeCompiler(source: string, registry: RuleRegistry): Compiler {
  const compiler: Compiler = {
    source,
    registry,
    operand: (e) => operand(compiler, e),
    fail(span, expected, found): never {
      throw new RuleSyntaxError(source, span.start, span.end, expected, found);
    },
  };
  return compiler;
}

function operand(c: Compiler, e: Expr): Operand {
  switch (e.type) {
    case 'literal':
      return constant(e.value);
    case 'date':
      return { kind: 'time', get: () => e.ms, constant: { value: e.ms } };
    case 'duration':
      return { kind: 'duration', ms: e.value * DURATION_MS[e.unit], span: e };
    case 'now':
      return { kind: 'time', get: (_p, now) => now };
    case 'field':
      return { kind: 'value', get: fieldGetter(e) };
    case 'list':
      return list(c, e.items);
    case 'call':
      return call(c, e.name, e.args);
    case 'arithmetic':
      return arithmetic(c, e.op, c.operand(e.left), c.operand(e.right), e);
    case 'compare':
      return { kind: 'bool', test: compileCompare(c, e) };
    case 'exists':
      return { kind: 'bool', test: existsTest(c.operand(e.operand), c) };
    case 'not': {
      const inner = asTest(c.operand(e.operand), c);
      return { kind: 'bool', test: (p, n) => !inner(p, n) };
    }
    case 'and':
    case 'or':
      return {
        kind: 'bool',
        test: logical(
          e.type,
          e.items.map((i) => asTest(c.operand(i), c)),
        ),
      };
  }
}

function constant(value: unknown): Operand {
  return { kind: 'value', get: () => value, constant: { value } };
}

/** A condition from any operand: values count only when they are `true`. */
export function asTest(o: Operand, c: Compiler): Test {
  if (o.kind === 'bool') return o.test;
  if (o.kind === 'duration') return durationMisuse(c, o.span);
  if (o.kind === 'time') return () => false;
  const get = o.get;
  return (p, n) => isTrue(get(p, n));
}

/** A raw value from any operand: times become Dates (or undefined), conditions booleans. */
export function asValue(c: Compiler, o: Operand): Getter {
  switch (o.kind) {
    case 'value':
      return o.get;
    case 'bool':
      return o.test;
    case 'duration':
      return durationMisuse(c, o.span);
    case 'time': {
      const get = o.get;
      return (p, n) => {
        const t = get(p, n);
        return Number.isNaN(t) ? undefined : new Date(t);
      };
    }
  }
}

/** Epoch ms from any operand (NaN when it is not a time); lists are not accepted here. */
export function asTime(c: Compiler, o: Operand): (p: RuleProfile, now: number) => number {
  if (o.kind === 'time') return o.get;
  if (o.kind === 'duration') return durationMisuse(c, o.span);
  const get = asValue(c, o);
  return (p, n) => toTime(get(p, n));
}

export function durationMisuse(c: Compiler, span: Span): never {
  return c.fail(
    span,
    'a duration only added to or subtracted from a date (now - 30d)',
    'a duration used alone',
  );
}

function fieldGetter(e: FieldNode): Getter {
  const [root, ...rest] = ROOTS.has(e.path[0]!) ? e.path : ['attributes', ...e.path];
  if (rest.length === 1 && !isUnsafeKey(rest[0]!)) return ownKeyGetter(root as keyof RuleProfile, rest[0]!);
  return (p) => {
    let v: unknown = p[root as keyof RuleProfile];
    for (const key of rest) v = getSegment(v, key);
    return v;
  };
}

/** The hot path: `attributes.x` or `identities.x` read with two property loads (named first load). */
function ownKeyGetter(root: keyof RuleProfile, key: string): Getter {
  const read = (o: unknown) => {
    if (typeof o !== 'object' || o === null) return undefined;
    return Array.isArray(o) ? getSegment(o, key) : (o as Record<string, unknown>)[key];
  };
  if (root === 'attributes') return (p) => read(p.attributes);
  if (root === 'identities') return (p) => read(p.identities);
  return (p) => read(p[root]);
}

function list(c: Compiler, items: readonly Expr[]): Operand {
  const operands = items.map((i) => c.operand(i));
  const getters = operands.map((o) => asValue(c, o));
  if (operands.every((o) => 'constant' in o && o.constant)) return constant(getters.map((g) => g({}, 0)));
  return { kind: 'value', get: (p, n) => getters.map((g) => g(p, n)) };
}

function call(c: Compiler, name: string, args: readonly Expr[]): Operand {
  const def = c.registry.function(name)!;
  const getters = args.map((a) => asValue(c, c.operand(a)));
  const f = def.call;
  return {
    kind: 'value',
    get: (p, n) => {
      try {
        return f(getters.map((g) => g(p, n)));
      } catch {
        return undefined;
      }
    },
  };
}

function arithmetic(c: Compiler, op: '+' | '-', l: Operand, r: Operand, span: Span): Operand {
  const sign = op === '+' ? 1 : -1;
  if (l.kind === 'duration' && r.kind === 'duration')
    return { kind: 'duration', ms: l.ms + sign * r.ms, span };
  if (r.kind === 'duration') {
    if (l.kind === 'bool') return c.fail(span, 'a date on the left of a duration', 'a condition');
    const t = asTime(c, l);
    const d = sign * r.ms;
    return { kind: 'time', get: (p, n) => t(p, n) + d };
  }
  if (l.kind === 'duration') {
    if (op === '-') return c.fail(span, 'a date before "- duration" (now - 30d)', 'a duration minus a value');
    return arithmetic(c, op, r, l, span);
  }
  if (l.kind === 'time' || r.kind === 'time') {
    return c.fail(
      span,
      'a duration to add to or subtract from a date (now - 30d)',
      'a date combined with a non-duration',
    );
  }
  const a = asValue(c, l);
  const b = asValue(c, r);
  return {
    kind: 'value',
    get: (p, n) => {
      const x = a(p, n);
      const y = b(p, n);
      return typeof x === 'number' && typeof y === 'number' ? x + sign * y : undefined;
    },
  };
}

export function existsTest(o: Operand, c: Compiler): Test {
  if (o.kind === 'bool') return () => true;
  if (o.kind === 'time') {
    const t = o.get;
    return (p, n) => {
      const x = t(p, n);
      return !Number.isNaN(x);
    };
  }
  const get = asValue(c, o);
  return (p, n) => {
    const v = get(p, n);
    if (v === undefined || v === null) return false;
    if (!Array.isArray(v)) return true;
    for (const x of v) if (x !== undefined && x !== null) return true;
    return false;
  };
}

function logical(type: 'and' | 'or', tests: readonly Test[]): Test {
  const [a, b, d] = tests as [Test, Test, Test | undefined];
  if (type === 'and') {
    if (tests.length === 2) return (p, n) => a(p, n) && b(p, n);
    if (tests.length === 3) return (p, n) => a(p, n) && b(p, n) && d!(p, n);
    return (p, n) => tests.every((t) => t(p, n));
  }
  if (tests.length === 2) return (p, n) => a(p, n) || b(p, n);
  if (tests.length === 3) return (p, n) => a(p, n) || b(p, n) || d!(p, n);
  return (p, n) => tests.some((t) => t(p, n));
}
