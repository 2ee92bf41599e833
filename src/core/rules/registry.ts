/**
 * Word operators (`contains`, `startsWith`, plugin ones like `matches`) and functions (`lower(x)`) live in a
 * registry so plugins add them without touching the engine. A registry is immutable: `with()` returns a new one.
 */

/** A word operator used infix: `left <name> right`. Operand values are raw profile/literal values. */
export interface OperatorDef {
  /** Identifier-shaped: letters, digits, `_`, `$`; not a keyword. */
  readonly name: string;
  readonly description?: string;
  /** Decides for one pair of values. Never called with a list when `lists` is 'any' (the default). */
  readonly test: (left: unknown, right: unknown) => boolean;
  /**
   * Optional: called once at compile time when the right operand is a constant; returns a faster
   * one-argument test (e.g. a compiled RegExp). Throwing here becomes a positioned RuleSyntaxError.
   */
  readonly prepare?: (right: unknown) => (left: unknown) => boolean;
  /**
   * 'any' (default): a list on either side matches when some element matches.
   * 'whole': the operator receives lists as they are.
   */
  readonly lists?: 'any' | 'whole';
}

/** A function callable in rules: `name(arg, …)`. Errors it throws make the call's value missing. */
export interface FunctionDef {
  readonly name: string;
  readonly description?: string;
  /** Exact count, or [min, max]. */
  readonly arity: number | readonly [number, number];
  readonly call: (args: readonly unknown[]) => unknown;
}

export interface RegistryAdditions {
  readonly operators?: readonly OperatorDef[];
  readonly functions?: readonly FunctionDef[];
}

/** The operators and functions a rule may use. */
export class RuleRegistry {
  readonly #operators: ReadonlyMap<string, OperatorDef>;
  readonly #functions: ReadonlyMap<string, FunctionDef>;

  constructor(additions: RegistryAdditions = {}) {
    this.#operators = new Map((additions.operators ?? []).map((o) => [checkName(o.name, 'operator'), o]));
    this.#functions = new Map((additions.functions ?? []).map((f) => [checkName(f.name, 'function'), f]));
  }

  /** A new registry holding these definitions too (same name: the addition wins). */
  with(additions: RegistryAdditions): RuleRegistry {
    return new RuleRegistry({
      operators: [...this.#operators.values(), ...(additions.operators ?? [])],
      functions: [...this.#functions.values(), ...(additions.functions ?? [])],
    });
  }

  operator(name: string): OperatorDef | undefined {
    return this.#operators.get(name);
  }

  function(name: string): FunctionDef | undefined {
    return this.#functions.get(name);
  }

  get operatorNames(): string[] {
    return [...this.#operators.keys()];
  }

  get functionNames(): string[] {
    return [...this.#functions.keys()];
  }
}

const RESERVED = new Set(['and', 'or', 'not', 'in', 'exists', 'true', 'false', 'null', 'now']);

function checkName(name: string, what: string): string {
  if (!/^[\p{L}_$][\p{L}\p{N}_$]*$/u.test(name) || RESERVED.has(name)) {
    throw new TypeError(
      `Invalid rule ${what} name ${JSON.stringify(name)}: expected an identifier that is not a keyword`,
    );
  }
  return name;
}

/** Applies `f` to a value, or to each element of a list (rule functions are element-wise on lists). */
export function mapValue(value: unknown, f: (v: unknown) => unknown): unknown {
  return Array.isArray(value) ? value.map(f) : f(value);
}

const str = (f: (s: string) => unknown) => (v: unknown) => (typeof v === 'string' ? f(v) : undefined);

/** Built-ins: `contains` (substring, or list membership), `startsWith`, `endsWith`, `lower`, `upper`, `length`. */
export const builtinRegistry: RuleRegistry = new RuleRegistry({
  operators: [
    {
      name: 'contains',
      description: 'string contains substring; list contains element',
      lists: 'whole',
      test: (left, right) => containsTest(left, right),
    },
    {
      name: 'startsWith',
      description: 'string starts with prefix',
      test: (l, r) => typeof l === 'string' && typeof r === 'string' && l.startsWith(r),
    },
    {
      name: 'endsWith',
      description: 'string ends with suffix',
      test: (l, r) => typeof l === 'string' && typeof r === 'string' && l.endsWith(r),
    },
  ],
  functions: [
    {
      name: 'lower',
      arity: 1,
      call: ([v]) =>
        mapValue(
          v,
          str((s) => s.toLowerCase()),
        ),
    },
    {
      name: 'upper',
      arity: 1,
      call: ([v]) =>
        mapValue(
          v,
          str((s) => s.toUpperCase()),
        ),
    },
    {
      name: 'length',
      description: 'characters of a string, elements of a list',
      arity: 1,
      call: ([v]) => (typeof v === 'string' || Array.isArray(v) ? v.length : undefined),
    },
  ],
});

/**
 * `contains`: on a list, some element equals (=) the right value (or one of the right list's elements);
 * on a string, the right string is a substring. Anything else is false.
 */
function containsTest(left: unknown, right: unknown): boolean {
  if (Array.isArray(right)) return right.some((r) => !Array.isArray(r) && containsTest(left, r));
  if (Array.isArray(left)) return left.some((l) => l === right && l !== null && l !== undefined);
  return typeof left === 'string' && typeof right === 'string' && left.includes(right);
}
