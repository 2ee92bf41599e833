/**
 * The syntax tree of a segment rule. Plain JSON-able objects so rules can be stored, diffed and printed.
 * `start`/`end` are UTF-16 offsets into the source; they let compile-time errors point at the culprit.
 */

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A string, number, boolean or null literal. */
export interface LiteralNode extends Span {
  readonly type: 'literal';
  readonly value: string | number | boolean | null;
}

/** `@2024-01-01` or `@2024-01-01T10:00:00Z`: `ms` is the UTC epoch time, `text` what was written. */
export interface DateNode extends Span {
  readonly type: 'date';
  readonly text: string;
  readonly ms: number;
}

export type DurationUnit = 'w' | 'd' | 'h' | 'm' | 's' | 'ms';

/** `30d`, `-1.5h`: a fixed length of time. */
export interface DurationNode extends Span {
  readonly type: 'duration';
  readonly value: number;
  readonly unit: DurationUnit;
}

/** `now`: the evaluation time given to the predicate. */
export interface NowNode extends Span {
  readonly type: 'now';
}

/** `country`, `identities.email`, `attributes.address.city`: segments exactly as written. */
export interface FieldNode extends Span {
  readonly type: 'field';
  readonly path: readonly string[];
}

export interface ListNode extends Span {
  readonly type: 'list';
  readonly items: readonly Expr[];
}

/** `lower(email)`: a function from the registry. */
export interface CallNode extends Span {
  readonly type: 'call';
  readonly name: string;
  readonly args: readonly Expr[];
}

/** `now - 30d`, `score + 1`. */
export interface ArithmeticNode extends Span {
  readonly type: 'arithmetic';
  readonly op: '+' | '-';
  readonly left: Expr;
  readonly right: Expr;
}

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'in';

/** `a = b`, `a in [...]`, and word operators from the registry (`contains`, `startsWith`, plugins…). */
export interface CompareNode extends Span {
  readonly type: 'compare';
  readonly op: string;
  readonly left: Expr;
  readonly right: Expr;
}

/** `x exists`. */
export interface ExistsNode extends Span {
  readonly type: 'exists';
  readonly operand: Expr;
}

export interface NotNode extends Span {
  readonly type: 'not';
  readonly operand: Expr;
}

/** `a and b and c` is one node with three items; `a and (b and c)` keeps the nesting. */
export interface LogicalNode extends Span {
  readonly type: 'and' | 'or';
  readonly items: readonly Expr[];
}

export type Expr =
  | LiteralNode
  | DateNode
  | DurationNode
  | NowNode
  | FieldNode
  | ListNode
  | CallNode
  | ArithmeticNode
  | CompareNode
  | ExistsNode
  | NotNode
  | LogicalNode;

/** Milliseconds per duration unit. */
export const DURATION_MS: Readonly<Record<DurationUnit, number>> = {
  w: 604_800_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
};

/** Words that cannot be bare field names (quote them with backticks: `` `in` ``). */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'and',
  'or',
  'not',
  'in',
  'exists',
  'true',
  'false',
  'null',
  'now',
]);
