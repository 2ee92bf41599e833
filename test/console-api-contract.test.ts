/**
 * The console speaks the documented API: every request its browser modules make (`api(method, path…)`
 * and `listAll(path…)`, read from the served sources) is an operation of /v1/openapi.json, with
 * only query parameters that operation declares. The console is plain browser JavaScript served
 * without a build step, so it cannot import the generated TypeScript types; this is its contract check.
 */
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/worker/app.ts';
import { CONSOLE_ASSETS } from '../src/worker/console/index.ts';
import { openApiDocument } from '../src/worker/openapi.ts';

interface ConsoleCall {
  readonly file: string;
  readonly method: string;
  /** `/dataflows/{}/run`: each computed path segment as `{}`. */
  readonly path: string;
  readonly query: string[];
  /** Made through listAll, which adds `?limit=&cursor=`. */
  readonly paged: boolean;
}

/** The text of the call's argument starting at `from`, up to its top-level `,` or `)`. */
function argumentAt(source: string, from: number): string {
  let depth = 0;
  let quote: string | undefined;
  for (let i = from; i < source.length; i++) {
    const ch = source[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      if (depth === 0) return source.slice(from, i);
      depth--;
    } else if (ch === ',' && depth === 0) return source.slice(from, i);
  }
  throw new Error(`unterminated call at ${from}`);
}

/** Splits `'/a/' + x + '/b'` at its top-level `+`. */
function parts(expression: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'") quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '+' && depth === 0) {
      out.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(expression.slice(start).trim());
  return out;
}

/** `/runs`, `?dataflowId=` … from a path expression: computed parts after a `/` are path segments, others a query suffix. */
function template(expression: string): { path: string; query: string[] } {
  let path = '';
  const query: string[] = [];
  for (const part of parts(expression)) {
    const literal = /^'([^']*)'$/.exec(part)?.[1];
    if (literal !== undefined) path += literal;
    else if (path.endsWith('/')) path += '{}';
    else query.push(...[...part.matchAll(/[?&](\w+)=/g)].map((m) => m[1]!));
  }
  const [bare, search] = path.split('?');
  if (search) query.push(...[...`?${search}`.matchAll(/[?&](\w+)=/g)].map((m) => m[1]!));
  return { path: bare!, query };
}

/** Every API call of the console's modules but api.js (the client itself, whose paths are its callers'). */
function consoleCalls(): ConsoleCall[] {
  const calls: ConsoleCall[] = [];
  for (const [file, asset] of Object.entries(CONSOLE_ASSETS)) {
    if (!file.endsWith('.js') || file === 'api.js') continue;
    for (const match of asset.body.matchAll(/\b(api|listAll)\(/g)) {
      let at = match.index + match[0].length;
      let method = 'GET';
      if (match[1] === 'api') {
        const literal = /^'([A-Z]+)',\s*/.exec(asset.body.slice(at));
        if (!literal) throw new Error(`${file}: api() with a computed method`);
        method = literal[1]!;
        at += literal[0].length;
      }
      const expression = argumentAt(asset.body, at);
      if (!expression.startsWith("'/")) throw new Error(`${file}: ${match[1]}(${expression}): a path not starting with a literal`);
      calls.push({ file, method, ...template(expression), paged: match[1] === 'listAll' });
    }
  }
  return calls;
}

describe('the console', () => {
  // biome-ignore lint/suspicious/noExplicitAny: the document is read structurally
  const doc = openApiDocument(createApp().routes) as any;
  const operations = new Map<string, { query: string[] }>();
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>)) {
    for (const [method, op] of Object.entries(item)) {
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      operations.set(`${method.toUpperCase()} ${path.replace(/\{\w+\}/g, '{}')}`, { query });
    }
  }

  it('calls only documented operations, with declared query parameters', () => {
    const calls = consoleCalls();
    expect(calls.length).toBeGreaterThan(15);
    for (const call of calls) {
      const key = `${call.method} ${call.path}`;
      expect(operations.has(key), `${call.file}: ${key} is not in /v1/openapi.json`).toBe(true);
      for (const name of call.query) expect(operations.get(key)?.query, `${call.file}: ${key}?${name}=`).toContain(name);
    }
    // listAll pages with ?limit=&cursor=: every list it is used on declares them.
    for (const call of calls.filter((c) => c.paged)) {
      expect(operations.get(`GET ${call.path}`)?.query, `${call.file}: listAll(${call.path})`).toEqual(expect.arrayContaining(['limit', 'cursor']));
    }
  });

  it('reads its calls as the console makes them', () => {
    const keys = consoleCalls().map((c) => `${c.method} ${c.path}${c.query.length ? `?${c.query.join('&')}` : ''}`);
    expect(keys).toEqual(
      expect.arrayContaining(['POST /dataflows/{}/run', 'GET /runs?dataflowId', 'PUT /destinations/{}', 'GET /destinations/{}/policies']),
    );
    // Sign-in, and the Tokens page: list, issue, rotate, revoke.
    expect(keys).toEqual(expect.arrayContaining(['GET /tokens/current', 'GET /tokens', 'POST /tokens', 'POST /tokens/{}/rotate', 'DELETE /tokens/{}']));
    expect(() => template("'/runs/' + id + '/oops'")).not.toThrow();
    expect(operations.has(`GET ${template("'/runs/' + id + '/oops'").path}`)).toBe(false);
  });
});
