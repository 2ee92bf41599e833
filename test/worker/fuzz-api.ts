/**
 * Fuzzing helpers of the Worker API reliability tests: body generators (mutations of valid bodies,
 * arbitrary JSON, garbage text), a console recorder, and the invariants every response must keep.
 */
import fc from 'fast-check';
import { expect, vi } from 'vitest';
import type { Call } from './helpers.ts';

/** Hostile scalar values: wrong types, huge strings, unicode, traversal, NUL, numbers at the edges. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    1e308,
    Number.MAX_SAFE_INTEGER,
    '',
    ' ',
    '..',
    '../../etc/passwd',
    '/abs',
    'a\\b',
    '%2e%2e/x',
    'nul\u0000byte',
    '\u202e\u0301\ud83d\ude00',
    'http://169.254.169.254/latest',
    'https://127.0.0.1',
    '{"a":1}',
    [],
    {},
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.constant('x'.repeat(70_000)),
  fc.jsonValue({ maxDepth: 2 }),
);

type Json = Record<string, unknown>;

/** One mutation of a body: set a (possibly nested) known field, delete one, or add an unknown one. */
function mutation(paths: readonly string[][]): fc.Arbitrary<(body: Json) => void> {
  const known = fc.constantFrom(...paths);
  return fc.oneof(
    fc.tuple(known, hostileValue).map(
      ([path, value]) =>
        (body: Json) =>
          setPath(body, path, value),
    ),
    known.map((path) => (body: Json) => setPath(body, path, undefined)),
    fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), hostileValue).map(([key, value]) => (body: Json) => {
      body[key] = value;
    }),
  );
}

function setPath(body: Json, path: readonly string[], value: unknown): void {
  let target: Json = body;
  for (const key of path.slice(0, -1)) {
    const next = target[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) target[key] = {};
    target = target[key] as Json;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) delete target[last];
  else target[last] = value;
}

/** Every dotted path of a valid body (the fields a mutation may hit). */
export function pathsOf(body: Json, prefix: string[] = []): string[][] {
  return Object.entries(body).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? [[...prefix, k], ...pathsOf(v as Json, [...prefix, k])]
      : [[...prefix, k]],
  );
}

/** Bodies for a JSON endpoint: 1–4 mutations of `valid`, or an arbitrary JSON value. */
export function jsonBodies(valid: Json): fc.Arbitrary<unknown> {
  const mutated = fc.array(mutation(pathsOf(valid)), { minLength: 1, maxLength: 4 }).map((ms) => {
    const body = structuredClone(valid);
    for (const m of ms) m(body);
    return body;
  });
  return fc.oneof({ weight: 3, arbitrary: mutated }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
}

/** Raw request text for the non-JSON cases: truncated JSON, garbage, huge, NUL, lone surrogates. */
export const rawText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('{', '{"name":', '[]', 'null', '"x"', '\u0000', '\ud800', 'a'.repeat(200_000)),
);

/** Content types, right and wrong. */
export const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'text/csv',
  'application/x-ndjson',
  'multipart/form-data; boundary=x',
  '',
);

/** NDJSON or CSV batches with garbage lines mixed into valid ones. */
export function ingestBodies(validLine: string, csvHeader: string, csvLine: string) {
  const garbage = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    fc.constantFrom('', '{', '"', ',,,', 'a,"b', '\u0000', '{"id":null}', '{"id":"../x"}'),
  );
  const lines = (valid: string) =>
    fc.array(fc.oneof(fc.constant(valid), garbage), { minLength: 0, maxLength: 12 });
  return fc.oneof(
    lines(validLine).map((ls) => ({ type: 'application/x-ndjson', text: ls.join('\n') })),
    lines(csvLine).map((ls) => ({ type: 'text/csv', text: [csvHeader, ...ls].join('\n') })),
    fc.tuple(contentType, rawText).map(([type, text]) => ({ type, text })),
  );
}

/** Tallies of a fuzz run: responses by status class and by error code. */
export class Tally {
  readonly byStatus = new Map<number, number>();
  readonly byCode = new Map<string, number>();
  rootIssues = 0;
  /** Unknown key `""`: its issue has no path to give, so the message names the received key. */
  emptyKeyIssues = 0;
  cases = 0;

  /** Checks the response invariants and counts it. `objectBody`: the request body was a JSON object. */
  check(label: string, res: Call, objectBody: boolean): void {
    this.cases++;
    this.byStatus.set(res.status, (this.byStatus.get(res.status) ?? 0) + 1);
    expect(res.status, `${label} → ${res.text.slice(0, 300)}`).toBeLessThan(500);
    expect(res.text, label).not.toMatch(/\n\s+at\s|Error: .*\n|TypeError|SyntaxError|RangeError/);
    if (res.status < 400) return;
    const error = res.body?.error;
    expect(typeof error?.code, `${label}: ${res.text.slice(0, 300)}`).toBe('string');
    expect(error.code.length, label).toBeGreaterThan(0);
    expect(typeof error.message, label).toBe('string');
    expect(error.message.length, label).toBeGreaterThan(0);
    this.byCode.set(error.code, (this.byCode.get(error.code) ?? 0) + 1);
    for (const issue of error.issues ?? []) {
      if (issue.path === '' && objectBody && /received ""|unknown field ""/.test(issue.message)) this.emptyKeyIssues++;
      else if (issue.path === '') {
        // A root issue is acceptable only when the body was not an object at all.
        this.rootIssues++;
        expect(objectBody, `${label}: root issue on an object body: ${issue.message}`).toBe(false);
      }
      expect(typeof issue.message, label).toBe('string');
    }
  }

  summary(): string {
    const s = [...this.byStatus].sort(([a], [b]) => a - b).map(([k, n]) => `${k}:${n}`);
    const c = [...this.byCode].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}:${n}`);
    return `${this.cases} cases; status ${s.join(' ')}; codes ${c.join(' ')}; root issues ${this.rootIssues}; empty-key issues ${this.emptyKeyIssues}`;
  }
}

/** Records every console line (as text) while still letting the test run quietly. */
export function recordConsole(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' '));
    }),
  );
  return {
    lines,
    restore: () => {
      for (const s of spies) s.mockRestore();
    },
  };
}

function safeJson(value: unknown): string {
  try {
    return value instanceof Error ? `${value.name}: ${value.message} ${value.stack}` : JSON.stringify(value);
  } catch {
    return String(value);
  }
}
