import * as v from 'valibot';
import { ConfigError, type ConfigIssue } from './errors.ts';

/** Turns valibot issues into path/expected/received issues under a path prefix. */
export function toConfigIssues(issues: readonly v.BaseIssue<unknown>[], prefix = ''): ConfigIssue[] {
  return issues.map((issue) => {
    const path = joinPath(prefix, issuePath(issue));
    const out: { path: string; message: string; expected?: string; received?: string } = {
      path,
      message: issue.message,
    };
    if (issue.expected != null) out.expected = issue.expected;
    if (issue.received != null) out.received = issue.received;
    return out;
  });
}

function issuePath(issue: v.BaseIssue<unknown>): string {
  let path = '';
  for (const item of issue.path ?? []) {
    const key = item.key;
    if (typeof key === 'number') path += `[${key}]`;
    else if (typeof key === 'string') path += path ? `.${key}` : key;
  }
  return path;
}

/** Joins two dotted paths: `joinPath('plugins[0]', 'options.x')`. */
export function joinPath(prefix: string, path: string): string {
  if (!prefix) return path;
  if (!path) return prefix;
  return path.startsWith('[') ? prefix + path : `${prefix}.${path}`;
}

/**
 * Parses `input` with `schema`, or throws a ConfigError listing every problem at once.
 *
 * @example parse(csvOptions, { delimiter: ';' }, 'format/csv options')
 */
export function parse<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
  subject = 'configuration',
  prefix = '',
): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  throw new ConfigError(toConfigIssues(result.issues, prefix), subject);
}
