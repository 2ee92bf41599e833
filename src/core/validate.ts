import * as v from 'valibot';
import { ConfigError, type ConfigIssue, withoutLabel } from './errors.ts';
import { didYouMean } from './suggest.ts';

/**
 * The longest string a user sent that an error may quote back. Shorter than any secret edge-export
 * accepts (an alert secret has at least 16 characters, an AWS secret key 40, an API token 47), so a
 * secret pasted into the wrong field (a bucket, `auth.method`, a region) never comes back in a 4xx;
 * a longer value is described by its length. Short values ("xml", "eu-west-1", "UTF-32") still are
 * quoted, because they say what went wrong.
 */
export const MAX_ECHO = 15;

/**
 * How an error shows a value the user sent: strings up to MAX_ECHO characters quoted, longer ones
 * by their length; numbers, booleans and null as themselves; objects and lists by their kind.
 *
 * @example quote('xml') // '"xml"'; quote('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY') // 'a 40-character string'
 */
export function quote(value: unknown): string {
  if (typeof value === 'string') return value.length <= MAX_ECHO ? JSON.stringify(value) : `a ${value.length}-character string`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/**
 * An issue that quotes no submitted string longer than MAX_ECHO: a quoted `received` ("…", as
 * valibot and the plugins write it) becomes its length, and the same text is replaced wherever the
 * message repeats it (only quoted or verbatim copies longer than MAX_ECHO, so nothing else in the
 * message is touched). The one filter every issue passes before it reaches a caller.
 */
export function withoutEcho(issue: ConfigIssue): ConfigIssue {
  const received = issue.received;
  const inner = received !== undefined && /^"[\s\S]*"$/.test(received) ? received.slice(1, -1) : undefined;
  if (inner === undefined || inner.length <= MAX_ECHO) return issue;
  const described = `a ${inner.length}-character string`;
  const message = issue.message.split(received!).join(described).split(inner).join(described);
  return { ...issue, message, received: described };
}

/**
 * Turns valibot issues into path/expected/received issues under a path prefix, echoing no long value.
 * With the `schema` that was parsed, an unknown key names the known ones and the closest ("did you
 * mean"); a value outside a list of allowed strings (picklist, literal, variant) suggests the closest.
 */
export function toConfigIssues(issues: readonly v.BaseIssue<unknown>[], prefix = '', schema?: v.GenericSchema): ConfigIssue[] {
  return issues.map((issue) => {
    const path = joinPath(prefix, issuePath(issue));
    const out: { path: string; message: string; expected?: string; received?: string } = {
      path,
      message: issue.message,
    };
    if (issue.expected != null) out.expected = issue.expected;
    if (issue.received != null) out.received = issue.received;
    const unknownKey = unknownKeyOf(issue);
    if (unknownKey !== undefined) {
      const known = schema ? keysAt(schema, issue.path!, 0) : [];
      const hint = didYouMean(unknownKey, known) || (known.length > 0 ? ` (expected one of: ${known.join(', ')})` : '');
      const own = issue.message.startsWith('Invalid key:') ? undefined : issue.message;
      out.message = `${own ?? `unknown field ${JSON.stringify(unknownKey)}`}${hint}`;
      if (known.length > 0) out.expected = known.join(' | ');
      else delete out.expected;
    } else if (issue.message.startsWith('Invalid key:') && issue.received === 'undefined') {
      out.message = `required field ${issue.expected} is missing`;
    } else {
      // A wrong type or value says what it received, when the schema's own message does not.
      if ((issue.kind === 'schema' || out.received?.startsWith('"')) && out.received !== undefined && !/received/i.test(out.message)) {
        out.message += `, received ${RECEIVED_KIND[out.received] ?? out.received}`;
      }
      const allowed = typeof issue.input === 'string' ? allowedStrings(issue.expected) : [];
      if (allowed.length > 0) out.message += didYouMean(issue.input as string, allowed);
    }
    return withoutEcho(withoutLabel(out));
  });
}

/** valibot's names for what it received, as a message says them. */
const RECEIVED_KIND: Record<string, string> = { Array: 'a list', Object: 'an object', undefined: 'nothing' };

/** The key a strict object refused (valibot's "Expected never"), or undefined for other issues. */
function unknownKeyOf(issue: v.BaseIssue<unknown>): string | undefined {
  const last = issue.path?.at(-1) as { key?: unknown; origin?: string } | undefined;
  return issue.expected === 'never' && last?.origin === 'key' && typeof last.key === 'string' ? last.key : undefined;
}

/** The strings of an expectation such as `("full" | "incremental")`, or none when it is anything else. */
function allowedStrings(expected: string | null): string[] {
  const parts = (expected ?? '').replace(/^\((.*)\)$/s, '$1').split(' | ');
  const strings: string[] = [];
  for (const part of parts) {
    if (!/^"(?:[^"\\]|\\.)*"$/.test(part)) return [];
    strings.push(JSON.parse(part) as string);
  }
  return strings;
}

type AnySchema = {
  entries?: Record<string, AnySchema>;
  wrapped?: AnySchema;
  getter?: (input: unknown) => AnySchema;
  options?: readonly AnySchema[];
  item?: AnySchema;
};

/**
 * The keys the object at `path` (an unknown key's path: its last item is the key itself) accepts,
 * found by walking the schema along the path: through optional/nullable wrappers, lazy schemas (with
 * the value at that level) and every option of a union or variant.
 */
function keysAt(schema: v.GenericSchema, path: readonly v.IssuePathItem[], depth: number): string[] {
  const keys = new Set<string>();
  const walk = (node: AnySchema | undefined, i: number): void => {
    const item = path[i] as { key?: unknown; input?: unknown } | undefined;
    if (!node) return;
    if (node.wrapped) walk(node.wrapped, i);
    else if (node.getter) walk(node.getter(item?.input), i);
    else if (node.options) for (const option of node.options) walk(option, i);
    else if (node.item && typeof item?.key === 'number') walk(node.item, i + 1);
    else if (node.entries && i === path.length - 1) for (const key of Object.keys(node.entries)) keys.add(key);
    else if (node.entries && typeof item?.key === 'string') walk(node.entries[item.key], i + 1);
  };
  walk(schema as AnySchema, depth);
  return [...keys];
}

/**
 * The dotted path of an issue. A key that is itself the problem (an unknown field, a bad record key)
 * was chosen by the user: like any submitted string it is shown only when short (MAX_ECHO), else as
 * `<a 40-character key>`, so a secret pasted as a field name does not come back either.
 */
function issuePath(issue: v.BaseIssue<unknown>): string {
  let path = '';
  for (const item of issue.path ?? []) {
    const key = item.key;
    const origin = (item as { origin?: string }).origin;
    if (typeof key === 'number') path += `[${key}]`;
    else if (typeof key === 'string') {
      const shown = origin === 'key' && key.length > MAX_ECHO ? `<a ${key.length}-character key>` : key;
      path += path ? `.${shown}` : shown;
    }
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
  throw new ConfigError(toConfigIssues(result.issues, prefix, schema), subject);
}
