import { ExportError } from '../errors.ts';

/** Where a rule problem is and what the parser wanted there; both 1-based, columns in UTF-16 units. */
export interface RuleErrorDetails {
  readonly line: number;
  readonly column: number;
  /** 0-based offsets of the offending text. */
  readonly start: number;
  readonly end: number;
  readonly expected: string;
  readonly found: string;
  /** The offending line with a caret line under the culprit. */
  readonly excerpt: string;
}

/**
 * A rule that cannot be parsed or compiled. It is a configuration error (code CONFIG_INVALID) so hosts
 * report it like any other bad option; `details` says where and what was expected.
 */
export class RuleSyntaxError extends ExportError {
  override readonly details: RuleErrorDetails & Record<string, unknown>;
  readonly line: number;
  readonly column: number;
  readonly expected: string;
  readonly found: string;

  constructor(source: string, start: number, end: number, expected: string, found: string) {
    const { line, column, excerpt } = locate(source, start, end);
    const message = `Rule error at line ${line}, column ${column}: expected ${expected}, found ${found}\n${excerpt}`;
    const details = { line, column, start, end, expected, found, excerpt };
    super('CONFIG_INVALID', message, { stage: 'rule', details });
    this.details = details;
    this.line = line;
    this.column = column;
    this.expected = expected;
    this.found = found;
  }
}

/** Line/column of an offset and a two-line excerpt: the source line, then carets under [start, end). */
function locate(
  source: string,
  start: number,
  end: number,
): { line: number; column: number; excerpt: string } {
  const at = Math.max(0, Math.min(start, source.length));
  const lineStart = source.lastIndexOf('\n', at - 1) + 1;
  const newline = source.indexOf('\n', at);
  const lineEnd = newline === -1 ? source.length : newline;
  let line = 1;
  for (let i = source.indexOf('\n'); i !== -1 && i < lineStart; i = source.indexOf('\n', i + 1)) line++;
  const column = at - lineStart + 1;
  // Long lines are cut to a window around the culprit so messages stay readable.
  const from = Math.max(lineStart, at - 60);
  const to = Math.min(lineEnd, Math.max(at, Math.min(end, lineEnd)) + 60);
  const text = `${from > lineStart ? '…' : ''}${source.slice(from, to)}${to < lineEnd ? '…' : ''}`.replace(
    /[\t\r]/g,
    ' ',
  );
  const width = Math.max(1, Math.min(end, lineEnd, at + 60) - at);
  const pad = at - from + (from > lineStart ? 1 : 0);
  const excerpt = `  ${text}\n  ${' '.repeat(pad)}${'^'.repeat(width)}`;
  return { line, column, excerpt };
}

/** How a token or character is shown in an error: quoted text, or a name for what cannot be shown. */
export function describe(text: string): string {
  if (text === '') return 'end of rule';
  const shown = text.length > 30 ? `${text.slice(0, 30)}…` : text;
  return JSON.stringify(shown);
}
