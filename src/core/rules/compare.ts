import type { CompareNode } from './ast.ts';
import {
  type Compiler,
  type Getter,
  type Operand,
  type Test,
  asTime,
  asValue,
  existsTest,
} from './compile.ts';
import type { OperatorDef } from './registry.ts';
import { anyPair, anyTime, compareValues, equalValues, isDateLike } from './values.ts';

type Order = (a: number, b: number) => boolean;
const ORDER: Readonly<Record<string, Order>> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

/** Compiles `left op right` to a test; specialised closures for the shapes rules use most. */
export function compileCompare(c: Compiler, e: CompareNode): Test {
  const l = c.operand(e.left);
  const r = c.operand(e.right);
  if (e.op === '=' || e.op === '!=') {
    const eq = equality(c, l, r);
    return e.op === '=' ? eq : (p, n) => !eq(p, n);
  }
  if (e.op === 'in') return membership(c, l, r);
  const order = ORDER[e.op];
  if (order) return ordering(c, order, l, r);
  const def = c.registry.operator(e.op);
  if (!def) return c.fail(e, 'a registered operator', JSON.stringify(e.op));
  return word(c, def, l, r, e);
}

const isNull = (o: Operand) => o.kind === 'value' && o.constant !== undefined && o.constant.value === null;

/** A scalar literal safe to compare with `===` (not null, not a date-like string). */
function plainConstant(o: Operand): { value: unknown } | undefined {
  if (o.kind !== 'value' || !o.constant) return undefined;
  const v = o.constant.value;
  const plain = typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && !isDateLike(v));
  return plain ? o.constant : undefined;
}

function equality(c: Compiler, l: Operand, r: Operand): Test {
  if (isNull(r) || isNull(l)) {
    const has = existsTest(isNull(r) ? l : r, c);
    return (p, n) => !has(p, n);
  }
  if (l.kind === 'time' || r.kind === 'time') return timed(c, l, r, (a, b) => a === b);
  const [other, k] = plainConstant(r) ? [l, plainConstant(r)] : [r, plainConstant(l)];
  if (k) {
    const get = asValue(c, other);
    const value = k.value;
    return (p, n) => {
      const v = get(p, n);
      return v === value || (Array.isArray(v) && v.includes(value));
    };
  }
  const a = asValue(c, l);
  const b = asValue(c, r);
  return (p, n) => anyPair(a(p, n), b(p, n), equalValues);
}

function ordering(c: Compiler, order: Order, l: Operand, r: Operand): Test {
  if (l.kind === 'time' || r.kind === 'time') return timed(c, l, r, order);
  const a = asValue(c, l);
  const k = r.kind === 'value' && typeof r.constant?.value === 'number' ? r.constant.value : undefined;
  const test = (x: unknown, y: unknown) => order(compareValues(x, y), 0);
  if (k !== undefined) {
    return (p, n) => {
      const v = a(p, n);
      return typeof v === 'number' ? order(v, k) : anyPair(v, k, test);
    };
  }
  const b = asValue(c, r);
  return (p, n) => anyPair(a(p, n), b(p, n), test);
}

/** One side is a time (a date literal, `now`, `x ± duration`): the other is read as a time too. */
function timed(c: Compiler, l: Operand, r: Operand, order: Order): Test {
  if (l.kind === 'time' && r.kind === 'time') {
    const [a, b] = [l.get, r.get];
    return (p, n) => order(a(p, n), b(p, n));
  }
  if (l.kind === 'time') return timed(c, r, l, (a, b) => order(b, a));
  const time = asTime(c, r);
  if (l.kind !== 'value') {
    const other = asTime(c, l);
    return (p, n) => order(other(p, n), time(p, n));
  }
  const value = l.get;
  return (p, n) => {
    const v = value(p, n);
    const t = time(p, n);
    return typeof v === 'number' ? order(v, t) : anyTime(v, (x) => order(x, t));
  };
}

/** `x in list`: true when x equals (=) some element; a `null` element matches a missing x. */
function membership(c: Compiler, l: Operand, r: Operand): Test {
  const a = asValue(c, l);
  const items =
    r.kind === 'value' && r.constant && Array.isArray(r.constant.value) ? r.constant.value : undefined;
  if (items?.includes(null)) {
    const nonNull = items.filter((i) => i !== null);
    const rest = membership(c, l, { kind: 'value', get: () => nonNull, constant: { value: nonNull } });
    const has = existsTest(l, c);
    return (p, n) => !has(p, n) || rest(p, n);
  }
  if (items?.every((i) => plainConstant({ kind: 'value', get: () => i, constant: { value: i } }))) {
    const set = new Set(items);
    return (p, n) => inSet(set, a(p, n));
  }
  const b = asValue(c, r);
  return (p, n) => {
    const list = b(p, n);
    return Array.isArray(list) && anyPair(a(p, n), list, equalValues);
  };
}

function anyOf(v: unknown, test: (x: unknown) => boolean): boolean {
  if (!Array.isArray(v)) return test(v);
  for (const x of v) if (!Array.isArray(x) && test(x)) return true;
  return false;
}

function inSet(set: ReadonlySet<unknown>, v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return set.has(v);
  if (!Array.isArray(v)) return false;
  for (const x of v) if (typeof x !== 'object' && set.has(x)) return true;
  return false;
}

/** A registry operator: plugin code is guarded so a throwing test counts as false. */
function word(c: Compiler, def: OperatorDef, l: Operand, r: Operand, e: CompareNode): Test {
  const a = asValue(c, l);
  const whole = def.lists === 'whole';
  const constant = r.kind === 'value' ? r.constant : undefined;
  if (def.prepare && constant && (whole || !Array.isArray(constant.value))) {
    const one = prepared(c, def, constant.value, e);
    const guarded = (x: unknown) => {
      try {
        return one(x) === true;
      } catch {
        return false;
      }
    };
    return whole ? (p, n) => guarded(a(p, n)) : (p, n) => anyOf(a(p, n), guarded);
  }
  const b: Getter = asValue(c, r);
  const test = (x: unknown, y: unknown) => {
    try {
      return def.test(x, y) === true;
    } catch {
      return false;
    }
  };
  return whole ? (p, n) => test(a(p, n), b(p, n)) : (p, n) => anyPair(a(p, n), b(p, n), test);
}

function prepared(c: Compiler, def: OperatorDef, value: unknown, e: CompareNode): (left: unknown) => unknown {
  try {
    return def.prepare!(value);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return c.fail(e.right, `a valid right operand for ${def.name}`, `${JSON.stringify(value)} (${why})`);
  }
}
