import { type CompareOp, type Expr, KEYWORDS } from './ast.ts';
import { RuleSyntaxError, describe } from './errors.ts';
import { type Token, tokenize } from './lexer.ts';
import { builtinRegistry, type RuleRegistry } from './registry.ts';
import { closest } from '../suggest.ts';

/** Deepest nesting accepted: keeps every recursive pass (compile, print) far from the stack limit. */
export const MAX_DEPTH = 200;

const COMPARE_OPS: ReadonlySet<string> = new Set(['=', '!=', '<', '<=', '>', '>=']);
const AFTER_OPERAND =
  'an operator (= != < <= > >= in contains startsWith endsWith exists), and, or, or end of rule';

export interface ParseOptions {
  /** Word operators and functions the rule may use; defaults to the built-ins. */
  readonly registry?: RuleRegistry;
}

/**
 * Parses a rule into its syntax tree, once; throws RuleSyntaxError with line, column, what was expected
 * and what was found.
 *
 * @example parseRule('country in ["FR", "DE"] and lastPurchase > now - 30d')
 */
export function parseRule(source: string, options: ParseOptions = {}): Expr {
  return new Parser(source, options.registry ?? builtinRegistry).parse();
}

class Parser {
  readonly #tokens: Token[];
  #at = 0;
  #depth = 0;

  constructor(
    readonly source: string,
    readonly registry: RuleRegistry,
  ) {
    this.#tokens = tokenize(source);
  }

  parse(): Expr {
    const expr = this.#or();
    if (this.#peek().kind !== 'eof') this.#fail(AFTER_OPERAND);
    return expr;
  }

  #or(): Expr {
    return this.#logical('or', () => this.#and());
  }

  #and(): Expr {
    return this.#logical('and', () => this.#not());
  }

  #logical(word: 'and' | 'or', next: () => Expr): Expr {
    const first = next();
    if (!this.#isWord(word)) return first;
    const items = [first];
    while (this.#isWord(word)) {
      this.#at++;
      items.push(next());
    }
    return { type: word, items, start: first.start, end: items.at(-1)!.end };
  }

  #not(): Expr {
    if (!this.#isWord('not')) return this.#comparison();
    const start = this.#next().start;
    const operand = this.#nested(() => this.#not());
    return { type: 'not', operand, start, end: operand.end };
  }

  #comparison(): Expr {
    const left = this.#additive();
    const t = this.#peek();
    if (t.kind === 'punct' && COMPARE_OPS.has(t.text)) {
      this.#at++;
      return this.#compare(t.text, left);
    }
    if (t.kind !== 'ident') return left;
    if (t.text === 'exists') {
      this.#at++;
      return { type: 'exists', operand: left, start: left.start, end: t.end };
    }
    if (t.text === 'not') {
      // `x not in [...]` and `x not contains y` are sugar for `not (x in [...])`.
      this.#at++;
      const op = this.#next();
      if (op.kind !== 'ident' || !(op.text === 'exists' || this.#isWordOperator(op.text))) {
        this.#fail('in, exists or a word operator after not', op);
      }
      const inner: Expr =
        op.text === 'exists'
          ? { type: 'exists', operand: left, start: left.start, end: op.end }
          : this.#compare(op.text, left);
      return { type: 'not', operand: inner, start: left.start, end: inner.end };
    }
    if (this.#isWordOperator(t.text)) {
      this.#at++;
      return this.#compare(t.text, left);
    }
    if (t.text === 'and' || t.text === 'or') return left;
    const known = ['in', ...this.registry.operatorNames];
    const near = closest(t.text, known);
    const expected = near
      ? `an operator (did you mean ${near}?)`
      : `an operator (=, !=, <, <=, >, >=, ${known.join(', ')}, exists)`;
    return this.#fail(expected);
  }

  #compare(op: string, left: Expr): Expr {
    const right = this.#additive();
    const next = this.#peek();
    if (next.kind === 'punct' && COMPARE_OPS.has(next.text)) {
      this.#fail('and, or, or end of rule (comparisons do not chain: add parentheses)');
    }
    return { type: 'compare', op: op as CompareOp, left, right, start: left.start, end: right.end };
  }

  #additive(): Expr {
    let left = this.#unary();
    let chain = 0;
    for (let t = this.#peek(); t.kind === 'punct' && (t.text === '+' || t.text === '-'); t = this.#peek()) {
      this.#at++;
      if (this.#depth + ++chain > MAX_DEPTH) this.#fail(`at most ${MAX_DEPTH} chained + or -`, t);
      const right = this.#unary();
      left = { type: 'arithmetic', op: t.text as '+' | '-', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  #unary(): Expr {
    const t = this.#peek();
    if (t.kind !== 'punct' || t.text !== '-') return this.#primary();
    const n = this.#tokens[this.#at + 1]!;
    if (n.kind === 'number') {
      this.#at += 2;
      return { type: 'literal', value: -n.value, start: t.start, end: n.end };
    }
    if (n.kind === 'duration') {
      this.#at += 2;
      return { type: 'duration', value: -n.value, unit: n.unit, start: t.start, end: n.end };
    }
    return this.#fail('a number or a duration after a minus sign', n);
  }

  #primary(): Expr {
    const t = this.#next();
    const { start, end } = t;
    switch (t.kind) {
      case 'string':
      case 'number':
        return { type: 'literal', value: t.value, start, end };
      case 'duration':
        return { type: 'duration', value: t.value, unit: t.unit, start, end };
      case 'date':
        return { type: 'date', text: t.text, ms: t.ms, start, end };
      case 'quoted':
        return this.#path(t.text, start, end);
      case 'ident':
        return this.#word(t);
      case 'punct':
        if (t.text === '(') return this.#parenthesised(t);
        if (t.text === '[') return this.#list(t);
    }
    return this.#fail(
      'a value (string, number, @date, duration, now, field, list, function or parenthesis)',
      t,
    );
  }

  #word(t: Token & { kind: 'ident' }): Expr {
    const { text, start, end } = t;
    if (text === 'true' || text === 'false') return { type: 'literal', value: text === 'true', start, end };
    if (text === 'null') return { type: 'literal', value: null, start, end };
    if (text === 'now') return { type: 'now', start, end };
    if (KEYWORDS.has(text)) {
      return this.#fail(`a value (quote a field named ${text} with backticks: \`${text}\`)`, t);
    }
    const open = this.#peek();
    if (open.kind === 'punct' && open.text === '(') return this.#call(t);
    return this.#path(text, start, end);
  }

  #path(first: string, start: number, end: number): Expr {
    const path = [first];
    let last = end;
    while (this.#peekPunct('.')) {
      this.#at++;
      const seg = this.#next();
      if (seg.kind !== 'ident' && seg.kind !== 'quoted') return this.#fail('a field name after "."', seg);
      path.push(seg.text);
      last = seg.end;
    }
    return { type: 'field', path, start, end: last };
  }

  #call(name: Token & { kind: 'ident' }): Expr {
    const def = this.registry.function(name.text);
    if (!def) {
      const near = closest(name.text, this.registry.functionNames);
      const names = this.registry.functionNames.join(', ');
      return this.#fail(near ? `a known function (did you mean ${near}?)` : `a known function (${names || 'none registered'})`, name);
    }
    this.#at++;
    const args = this.#items(')', () => this.#or());
    const closing = this.#tokens[this.#at - 1]!;
    const [min, max] = typeof def.arity === 'number' ? [def.arity, def.arity] : def.arity;
    if (args.length < min || args.length > max) {
      const count = min === max ? `${min}` : `${min} to ${max}`;
      throw new RuleSyntaxError(
        this.source,
        name.start,
        closing.end,
        `${count} argument(s) for ${name.text}()`,
        `${args.length}`,
      );
    }
    return { type: 'call', name: name.text, args, start: name.start, end: closing.end };
  }

  #parenthesised(open: Token): Expr {
    const inner = this.#nested(() => this.#or());
    this.#expect(')', `")" to close the "(" at ${this.#where(open.start)}`);
    return inner;
  }

  #list(open: Token): Expr {
    const items = this.#items(']', () => this.#additive());
    return { type: 'list', items, start: open.start, end: this.#tokens[this.#at - 1]!.end };
  }

  /** Comma-separated items up to `close` (a trailing comma is allowed); consumes `close`. */
  #items(close: string, item: () => Expr): Expr[] {
    const items: Expr[] = [];
    while (!this.#peekPunct(close)) {
      items.push(this.#nested(item));
      if (!this.#peekPunct(',')) break;
      this.#at++;
    }
    this.#expect(close, `, or ${close}`);
    return items;
  }

  #nested(parse: () => Expr): Expr {
    if (++this.#depth > MAX_DEPTH) this.#fail(`at most ${MAX_DEPTH} levels of nesting`);
    const expr = parse();
    this.#depth--;
    return expr;
  }

  #isWordOperator(text: string): boolean {
    return text === 'in' || this.registry.operator(text) !== undefined;
  }

  #isWord(word: string): boolean {
    const t = this.#peek();
    return t.kind === 'ident' && t.text === word;
  }

  #peekPunct(text: string): boolean {
    const t = this.#peek();
    return t.kind === 'punct' && t.text === text;
  }

  #expect(text: string, expected: string): void {
    if (!this.#peekPunct(text)) this.#fail(expected);
    this.#at++;
  }

  #peek(): Token {
    return this.#tokens[this.#at]!;
  }

  #next(): Token {
    const t = this.#tokens[this.#at]!;
    if (t.kind !== 'eof') this.#at++;
    return t;
  }

  #where(offset: number): string {
    const before = this.source.slice(0, offset);
    const line = before.split('\n').length;
    return `line ${line}, column ${offset - before.lastIndexOf('\n')}`;
  }

  #fail(expected: string, token: Token = this.#peek()): never {
    const found = token.kind === 'eof' ? 'end of rule' : describe(this.source.slice(token.start, token.end));
    throw new RuleSyntaxError(this.source, token.start, token.end, expected, found);
  }
}
