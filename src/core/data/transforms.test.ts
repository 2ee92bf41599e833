import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { compileMapping, mapValues } from './mapping.ts';
import type { Profile } from './model.ts';
import { compileTransforms, flatten, join, phone, REFUSED, TRANSFORM_NAMES, type TransformSpec } from './transforms.ts';

/** SHA-256 hex by the runtime's own Web Crypto (Node, Deno and workerd each have theirs). */
async function subtleSha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const profile = (attributes: Record<string, unknown>, identities: Record<string, string[]> = {}): Profile => ({
  id: 'p1',
  identities,
  attributes,
  updatedAt: '2026-01-20T10:00:00Z',
});
const ctx = { status: 'realized' as const };
const issuesOf = (spec: unknown) => {
  try {
    compileMapping(spec);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
};

describe('mapping functions', () => {
  it('hash an email as ad platforms require: SHA-256 hex of the trimmed, lower-cased text', async () => {
    const chain = compileTransforms(['trim', 'lowercase', 'sha256']);
    expect(chain('  Ada.Lovelace@Example.COM\t')).toBe(await subtleSha256('ada.lovelace@example.com'));
    expect(chain(null)).toBeNull();
    expect(chain(['A@x.io', ' b@x.io'])).toEqual([await subtleSha256('a@x.io'), await subtleSha256('b@x.io')]);
  });

  it('text functions take a value as written: numbers, booleans, objects (canonical JSON), each list item', () => {
    expect(compileTransforms(['uppercase'])([1.5, true, 'é', { b: 1, a: 'x' }, null])).toEqual(['1.5', 'TRUE', 'É', '{"A":"X","B":1}', null]);
    expect(compileTransforms(['trim'])('\u00a0 x \n')).toBe('x');
  });

  it('refuse to hash text that is not well-formed Unicode (no UTF-8 exists for it)', () => {
    expect(compileTransforms(['sha256'])('a\ud800b')).toBe(REFUSED);
    expect(compileTransforms(['sha256', 'join'])(['ok', '\udc00'])).toBe(REFUSED);
  });

  it('phone keeps + for international numbers and only digits otherwise', () => {
    expect(phone(' +1 (415) 555-0100 ')).toBe('+14155550100');
    expect(phone('0033 1 23 45 67 89')).toBe('+33123456789');
    expect(phone('06.12.34.56.78')).toBe('0612345678');
    expect(phone('n/a')).toBeNull();
  });

  it('join makes one text of a list, nested lists flattened, null items empty', () => {
    expect(join(['a', ['b', ['c']], null, 3], '|')).toBe('a|b|c||3');
    expect(join([], ',')).toBe('');
    expect(join('solo', ',')).toBe('solo');
    expect(join(null, ',')).toBeNull();
    expect(compileTransforms([{ name: 'join' }])(['x', 'y'])).toBe('x,y');
  });

  it('flatten writes a nested value as one level of dotted keys (JSON text)', () => {
    expect(flatten({ a: { b: 1, c: { d: 'x' } }, tags: ['t', { u: true }], e: {}, f: [], g: null })).toBe(
      '{"a.b":1,"a.c.d":"x","tags.0":"t","tags.1.u":true,"e":{},"f":[],"g":null}',
    );
    expect(flatten({})).toBe('{}');
    expect(flatten({ 'a.b': 1, a: { b: 2 } })).toBe('{"a.b":2}');
    expect(flatten(42)).toBe('42');
    expect(flatten(null)).toBeNull();
  });

  it('in a mapping: applied in order, columns typed as text, refused values skip the row', () => {
    const mapping = compileMapping({
      fields: [
        { source: 'identities.email', target: 'email_sha256', transforms: ['trim', 'lowercase', 'sha256'], mandatory: true },
        { source: 'identities.email', target: 'emails', type: { list: 'string' }, transforms: ['lowercase'] },
        { source: 'attributes.tags', transforms: [{ name: 'join', separator: ';' }] },
        { source: 'attributes.address', transforms: ['flatten', 'uppercase'] },
        { source: 'attributes.score', transforms: ['trim'] },
      ],
    });
    expect(mapping.schema.map((c) => c.type)).toEqual(['string', { list: 'string' }, 'string', 'string', 'string']);
    const cells = mapValues(mapping, profile({ tags: ['a', 'b'], address: { city: 'Paris' }, score: 7 }, { email: [' A@B.io', 'C@d.io'] }), ctx);
    expect(cells).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/), [' a@b.io', 'c@d.io'], 'a;b', '{"CITY":"PARIS"}', '7']);
    expect(mapValues(mapping, profile({}, { email: ['x\ud800'] }), ctx)).toBe('invalid:identities.email');
    expect(mapValues(mapping, profile({}), ctx)).toBe('missing:identities.email');
  });

  it('changes the mapping id (incremental state) when the functions change', () => {
    const id = (transforms: TransformSpec[]) => compileMapping({ fields: [{ source: 'id', transforms }] }).id;
    expect(id(['lowercase'])).not.toBe(id(['uppercase']));
    expect(id([{ name: 'join', separator: ',' }])).not.toBe(id([{ name: 'join', separator: ';' }]));
  });

  it('is validated at configuration time, every problem at its field path, with did-you-mean', () => {
    expect(
      issuesOf({
        fields: [
          { source: 'id', transforms: ['lowercse', { name: 'join', sep: ';' }, { name: 'trim', separator: ',' }, 5] },
          { source: 'id', target: 'n', type: 'integer', transforms: ['sha256'] },
          { source: 'id', target: 'l', type: { list: 'string' }, transforms: ['join'] },
          { source: 'id', target: 's', transforms: 'sha256' },
        ],
      }),
    ).toEqual([
      'fields[0].transforms[0]: unknown function: expected one of trim, lowercase, uppercase, sha256, phone, join, flatten, received "lowercse" (did you mean "lowercase"?)',
      'fields[0].transforms[1]: join takes only "separator"; unknown "sep"',
      'fields[0].transforms[2]: trim takes no options; unknown "separator"',
      'fields[0].transforms[3]: expected a function name ("trim", "lowercase", "sha256", …) or {name: "join", separator: ","}, received 5',
      'fields[1].type: transforms make text; expected "string" or {list: "string"} (or no type)',
      'fields[2].type: transforms make text; expected "string" (or no type)',
      'fields[3].transforms: expected a list of functions such as ["trim", "lowercase", "sha256"], received "sha256"',
    ]);
    expect(issuesOf({ fields: [{ source: 'id', transforms: ['SHA256'] }] })[0]).toContain('(did you mean "sha256"?)');
  });
});

describe('mapping functions, fuzzed', () => {
  it('sha256 after trim and lowercase equals Web Crypto over the normalised text, for any well-formed string', async () => {
    const chain = compileTransforms(['trim', 'lowercase', 'sha256']);
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), async (s) => {
        expect(chain(s)).toBe(await subtleSha256(s.trim().toLowerCase()));
      }),
      { numRuns: 300 },
    );
  });

  it('join then split gives the items back when no item holds the separator', () => {
    const separator = fc.constantFrom(',', '|', ';', '\t', ' :: ');
    fc.assert(
      fc.property(separator, fc.array(fc.string(), { minLength: 1, maxLength: 20 }), (sep, items) => {
        fc.pre(items.every((item) => !item.includes(sep)) && !(items.length === 1 && items[0] === ''));
        expect(join(items, sep)!.split(sep)).toEqual(items);
      }),
    );
  });

  it('flatten then unflatten gives the value back (lists as index-keyed objects) when keys hold no dot', () => {
    const key = fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !k.includes('.') && k !== '__proto__');
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('list'), tie('object')),
      leaf: fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
      list: fc.array(tie('tree'), { maxLength: 4 }),
      object: fc.dictionary(key, tie('tree'), { maxKeys: 4 }),
    }));
    const root = fc.dictionary(key, tree, { minKeys: 1, maxKeys: 5 });
    const asObjects = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.length === 0 ? [] : Object.fromEntries(value.map((v, i) => [String(i), asObjects(v)]));
      if (value !== null && typeof value === 'object') {
        const entries = Object.entries(value);
        return entries.length === 0 ? {} : Object.fromEntries(entries.map(([k, v]) => [k, asObjects(v)]));
      }
      return value;
    };
    const unflatten = (flat: Record<string, unknown>) => {
      const out: Record<string, unknown> = {};
      for (const [path, leaf] of Object.entries(flat)) {
        const parts = path.split('.');
        let node = out;
        for (const part of parts.slice(0, -1)) {
          node[part] ??= {};
          node = node[part] as Record<string, unknown>;
        }
        node[parts.at(-1)!] = leaf;
      }
      return out;
    };
    fc.assert(
      fc.property(root, (value) => {
        expect(unflatten(JSON.parse(flatten(value)!))).toEqual(asObjects(value));
      }),
    );
  });

  it('no function and no chain throws on any JSON value, and each gives text, null, a list of them, or REFUSED', () => {
    const chains = fc.array(
      fc.oneof(fc.constantFrom(...TRANSFORM_NAMES), fc.record({ name: fc.constant('join' as const), separator: fc.string({ maxLength: 3 }) })),
      { minLength: 1, maxLength: 5 },
    );
    const isText = (x: unknown): boolean => x === null || typeof x === 'string' || (Array.isArray(x) && x.every(isText));
    fc.assert(
      fc.property(chains, fc.jsonValue(), (specs, value) => {
        const out = compileTransforms(specs)(value);
        expect(out === REFUSED || isText(out)).toBe(true);
        // Through a whole mapping as an attribute's value: a row or a skip reason, never a throw.
        const mapping = compileMapping({ fields: [{ source: 'id' }, { source: 'attributes.v', transforms: specs }] });
        const cells = mapValues(mapping, profile({ v: value }), ctx);
        expect(typeof cells === 'string' ? cells : typeof cells[1]).toMatch(/^(string|object|invalid:attributes\.v)$/);
      }),
      { numRuns: 500 },
    );
  });
});
