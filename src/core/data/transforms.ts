/**
 * Calculated fields: functions a mapping field applies to its value, in order, before the value is
 * written (`transforms: ["trim", "lowercase", "sha256"]`) — what ad platforms require of identities
 * (the SHA-256 hex of a trimmed, lower-cased email), lists as one text, nested objects as one
 * column. Plain functions of the value: the same result on every host and in the audience preview.
 *
 * Text functions (trim, lowercase, uppercase, sha256, phone) take a value's text — a number or a
 * boolean as written (`42` → "42"), an object as its canonical JSON — and apply to each item of a
 * list. `join` and `flatten` make one text of a list or an object. null stays null.
 */
import * as v from 'valibot';
import { sha256Hex } from '../sha256.ts';
import { didYouMean } from '../suggest.ts';
import { canonical } from './fingerprint.ts';
import { isWellFormed } from './model.ts';

/** The functions, in the order the documentation lists them. */
export const TRANSFORM_NAMES = ['trim', 'lowercase', 'uppercase', 'sha256', 'phone', 'join', 'flatten'] as const;
export type TransformName = (typeof TRANSFORM_NAMES)[number];

/** Functions that make one text of the whole value (the column is then a `string`, never a list). */
const WHOLE_VALUE: ReadonlySet<string> = new Set(['join', 'flatten']);

/** What a transform returns for a value it must not change silently: its row is refused (`invalid:`). */
export const REFUSED: unique symbol = Symbol('refused by a transform');

const SHAPE = 'expected a function name ("trim", "lowercase", "sha256", …) or {name: "join", separator: ","}';

/** One step of `transforms`: a function's name, or `{name, …options}` (only `join` has one: `separator`). */
export const transformSchema = v.pipe(
  v.union([v.string(), v.looseObject({ name: v.string(), separator: v.optional(v.string()) })], SHAPE),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = transformProblem(dataset.value);
    if (!problem) return;
    const name = nameOf(dataset.value);
    addIssue({ message: problem, ...(!isKnown(name) && { expected: TRANSFORM_NAMES.map((n) => `"${n}"`).join(' | '), received: JSON.stringify(name) }) });
  }),
);
export type TransformSpec = v.InferOutput<typeof transformSchema>;

const nameOf = (spec: TransformSpec): string => (typeof spec === 'string' ? spec : spec.name);
const isKnown = (name: string): name is TransformName => (TRANSFORM_NAMES as readonly string[]).includes(name);

function transformProblem(spec: TransformSpec): string | undefined {
  const name = nameOf(spec);
  // The caller adds what was received and the closest name (did you mean …) from `expected`.
  if (!isKnown(name)) return `unknown function: expected one of ${TRANSFORM_NAMES.join(', ')}`;
  if (typeof spec === 'string') return undefined;
  const extra = Object.keys(spec).filter((key) => key !== 'name' && !(name === 'join' && key === 'separator'));
  if (extra.length === 0) return undefined;
  const takes = name === 'join' ? 'takes only "separator"' : 'takes no options';
  return `${name} ${takes}; unknown ${extra.map((k) => JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k)).join(', ')}${didYouMean(extra[0]!, name === 'join' ? ['separator'] : [])}`;
}

/** Whether a chain makes one text of the whole value (its column is a `string`, not a list). */
export function makesText(specs: readonly TransformSpec[]): boolean {
  return specs.some((spec) => WHOLE_VALUE.has(nameOf(spec)));
}

type Step = (value: unknown) => unknown;

const UTF8 = new TextEncoder();

/**
 * The chain as one function of a value: each step gets what the one before returned; REFUSED (a
 * text that is not well-formed Unicode, which has no UTF-8 to hash) ends it.
 *
 * @example compileTransforms(['trim', 'lowercase', 'sha256'])(' Ada@Example.com ') // sha256 of "ada@example.com"
 */
export function compileTransforms(specs: readonly TransformSpec[]): Step {
  const steps = specs.map(step);
  return (value) => {
    let out = value;
    for (const run of steps) {
      out = run(out);
      if (out === REFUSED) return REFUSED;
    }
    return out;
  };
}

function step(spec: TransformSpec): Step {
  const name = nameOf(spec) as TransformName;
  switch (name) {
    case 'trim':
      return eachText((s) => s.trim());
    case 'lowercase':
      return eachText((s) => s.toLowerCase());
    case 'uppercase':
      return eachText((s) => s.toUpperCase());
    case 'sha256':
      return eachText((s) => (isWellFormed(s) ? sha256Hex(UTF8.encode(s)) : REFUSED));
    case 'phone':
      return eachText(phone);
    case 'join': {
      const separator = typeof spec === 'string' ? ',' : (spec.separator ?? ',');
      return (value) => join(value, separator);
    }
    case 'flatten':
      return flatten;
  }
}

/** The text a string column writes for a scalar or an object; null for null. */
export function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'object') return canonical(value);
  return String(value);
}

/** A text function applied to a value's text, to each item of a list (REFUSED in any item refuses all). */
function eachText(fn: (text: string) => string | null | typeof REFUSED): Step {
  const apply = (value: unknown): unknown => {
    if (Array.isArray(value)) {
      const out = value.map(apply);
      return out.includes(REFUSED) ? REFUSED : out;
    }
    const text = textOf(value);
    return text === null ? null : fn(text);
  };
  return apply;
}

/**
 * E.164-like digits: `+` kept when the number starts with `+` or `00` (an international prefix),
 * every other character but digits dropped; null when no digit is left. No country is guessed.
 *
 * @example phone(' +1 (415) 555-0100 ') // "+14155550100"; phone('0033 1 23 45') // "+33123 45" without the space
 */
export function phone(text: string): string | null {
  const trimmed = text.trim();
  const international = trimmed.startsWith('+') || trimmed.startsWith('00');
  const digits = (trimmed.startsWith('00') ? trimmed.slice(2) : trimmed).replace(/[^0-9]/g, '');
  if (digits === '') return null;
  return international ? `+${digits}` : digits;
}

/**
 * A list as one text: items (nested lists first made one list) as their text, null items as empty
 * texts, joined by `separator`. A single value is its own text; null stays null.
 */
export function join(value: unknown, separator: string): string | null {
  if (!Array.isArray(value)) return textOf(value);
  return (value as unknown[]).flat(Number.POSITIVE_INFINITY).map((item) => textOf(item) ?? '').join(separator);
}

/**
 * A nested value as one level: the JSON text of an object whose keys are the dotted paths to each
 * leaf (list items by index: `tags.0`), in the value's own order. An empty object or list inside is a
 * leaf; a key holding a dot that meets a nested path keeps the later leaf. A scalar is its own
 * text; null stays null.
 *
 * @example flatten({ a: { b: 1 }, tags: ['x'] }) // '{"a.b":1,"tags.0":"x"}'
 */
export function flatten(value: unknown): string | null {
  if (value === null || value === undefined || typeof value !== 'object' || value instanceof Date) return textOf(value);
  // A key holding a dot can meet a nested path ({"a.b": 1, "a": {"b": 2}}): the later leaf wins.
  const flat = new Map<string, unknown>();
  const walk = (node: unknown, path: string): void => {
    const entries = containerEntries(node);
    if (entries && entries.length > 0) for (const [key, item] of entries) walk(item, `${path}.${key}`);
    else flat.set(path, node);
  };
  for (const [key, item] of containerEntries(value)!) walk(item, key);
  return `{${[...flat].map(([key, leaf]) => `${JSON.stringify(key)}:${leafJson(leaf)}`).join(',')}}`;
}

/** The [key, item] pairs of an object or list (list items by index), or undefined for anything else. */
function containerEntries(node: unknown): (readonly [string, unknown])[] | undefined {
  if (node === null || typeof node !== 'object' || node instanceof Date) return undefined;
  return Array.isArray(node) ? node.map((item, i) => [String(i), item] as const) : Object.entries(node);
}

/** A leaf as JSON: what JSON cannot hold (bigint, NaN, dates) as canonical text would write it. */
function leafJson(leaf: unknown): string {
  if (typeof leaf === 'bigint') return leaf.toString();
  if (leaf instanceof Date) return JSON.stringify(textOf(leaf));
  if (typeof leaf === 'number' && !Number.isFinite(leaf)) return 'null';
  if (leaf === undefined) return 'null';
  if (leaf !== null && typeof leaf === 'object') return Array.isArray(leaf) ? '[]' : '{}';
  return JSON.stringify(leaf);
}
