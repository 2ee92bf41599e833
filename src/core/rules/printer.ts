import { type Expr, KEYWORDS } from './ast.ts';
import { IDENT } from './lexer.ts';

/** Binding strength of each node, loosest first; a child weaker than its slot needs parentheses. */
function strength(e: Expr): number {
  switch (e.type) {
    case 'or':
      return 1;
    case 'and':
      return 2;
    case 'not':
      return 3;
    case 'compare':
    case 'exists':
      return 4;
    case 'arithmetic':
      return 5;
    default:
      return 6;
  }
}

/**
 * Prints a syntax tree back as rule text, with only the parentheses needed; parsing the result gives the
 * same tree (positions aside). Useful to store and display normalised rules.
 */
export function printRule(e: Expr): string {
  switch (e.type) {
    case 'literal':
      return typeof e.value === 'number' ? num(e.value) : JSON.stringify(e.value);
    case 'date':
      return `@${e.text}`;
    case 'duration':
      return `${num(e.value)}${e.unit}`;
    case 'now':
      return 'now';
    case 'field':
      return e.path
        .map((seg, i) => (IDENT.test(seg) && !(i === 0 && KEYWORDS.has(seg)) ? seg : `\`${seg}\``))
        .join('.');
    case 'list':
      return `[${e.items.map((item) => child(item, 5)).join(', ')}]`;
    case 'call':
      return `${e.name}(${e.args.map(printRule).join(', ')})`;
    case 'arithmetic':
      return `${child(e.left, 5)} ${e.op} ${child(e.right, 6)}`;
    case 'compare':
      return `${child(e.left, 5)} ${e.op} ${child(e.right, 5)}`;
    case 'exists':
      return `${child(e.operand, 5)} exists`;
    case 'not':
      return `not ${child(e.operand, 3)}`;
    case 'and':
    case 'or':
      return e.items.map((item) => child(item, strength(e) + 1)).join(` ${e.type} `);
  }
}

/** Prints `e` in a slot that needs at least strength `min`, adding parentheses when it binds looser. */
function child(e: Expr, min: number): string {
  const text = printRule(e);
  return strength(e) < min ? `(${text})` : text;
}

function num(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}
