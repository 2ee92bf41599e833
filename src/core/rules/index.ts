/**
 * The segment rule engine: parse a readable rule once, compile it to a closure predicate, evaluate it
 * over millions of profiles. See docs/RULES.md for the language.
 */
import { type CompileOptions, compileAst, type Predicate } from './compile.ts';
import { parseRule } from './parser.ts';

export type * from './ast.ts';
export { RuleSyntaxError, type RuleErrorDetails } from './errors.ts';
export { parseRule, MAX_DEPTH, type ParseOptions } from './parser.ts';
export { printRule } from './printer.ts';
export { compileAst, type Predicate, type RuleProfile, type CompileOptions } from './compile.ts';
export {
  RuleRegistry,
  builtinRegistry,
  mapValue,
  type OperatorDef,
  type FunctionDef,
  type RegistryAdditions,
} from './registry.ts';
export { toTime, equalValues, compareValues, exists } from './values.ts';

/**
 * Parses and compiles a rule in one step; throws RuleSyntaxError (line, column, expected, found).
 *
 * @example
 * const inSegment = compileRule('country in ["FR", "DE"] and lastPurchase > now - 30d');
 * inSegment(profile, new Date());
 */
export function compileRule(source: string, options: Omit<CompileOptions, 'source'> = {}): Predicate {
  return compileAst(parseRule(source, options), { ...options, source });
}
