import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { canonical, fingerprint } from './fingerprint.ts';
import {
  coerce,
  coerceValue,
  compileMapping,
  headerOf,
  INVALID,
  mapValues,
  memberKeys,
  toRow,
} from './mapping.ts';
import type { Profile } from './model.ts';

const ada: Profile = {
  id: 'p1',
  identities: { email: ['ada@example.com', 'ada@work.example'], crmId: ['42'] },
  attributes: {
    person: { name: 'Ada', born: '1815-12-10' },
    loyalty: { points: '120' },
    tags: ['vip', 'beta'],
  },
  updatedAt: '2026-01-20T10:00:00Z',
};

const ctx = { status: 'realized' as const, qualifiedAt: '2026-01-20T10:00:00Z' };

describe('mapping', () => {
  it('keeps mapping order, renames, and turns dots into underscores in headers', () => {
    const mapping = compileMapping({
      fields: [
        { source: 'attributes.loyalty.points', type: 'integer' },
        { source: 'identities.email', target: 'E-mail' },
        { source: 'attributes.person.name', target: 'full.name' },
        { source: 'id' },
        { source: 'attributes.tags.1' },
        { source: 'segmentMembership.status' },
        { source: 'segmentMembership.qualifiedAt' },
        { source: 'identities.crmId', type: { list: 'string' } },
      ],
    });
    const row = toRow(mapping, mapValues(mapping, ada, ctx) as unknown[]);
    expect(Object.keys(row)).toEqual([
      'loyalty_points',
      'E-mail',
      'full_name',
      'id',
      'tags_1',
      'segmentMembership_status',
      'segmentMembership_qualifiedAt',
      'identities_crmId',
    ]);
    expect(row).toEqual({
      loyalty_points: 120,
      'E-mail': 'ada@example.com',
      full_name: 'Ada',
      id: 'p1',
      tags_1: 'beta',
      segmentMembership_status: 'realized',
      segmentMembership_qualifiedAt: new Date('2026-01-20T10:00:00Z'),
      identities_crmId: ['42'],
    });
    expect(mapping.schema).toEqual([
      { name: 'loyalty_points', type: 'integer', nullable: true },
      { name: 'E-mail', type: 'string', nullable: true },
      { name: 'full_name', type: 'string', nullable: true },
      { name: 'id', type: 'string', nullable: false },
      { name: 'tags_1', type: 'string', nullable: true },
      { name: 'segmentMembership_status', type: 'string', nullable: false },
      { name: 'segmentMembership_qualifiedAt', type: 'timestamp', nullable: true },
      { name: 'identities_crmId', type: { list: 'string' }, nullable: true },
    ]);
  });

  it('takes attribute types from a profile schema, declared types first', () => {
    const mapping = compileMapping(
      {
        fields: [
          { source: 'attributes.person.born' },
          { source: 'attributes.loyalty.points' },
          { source: 'attributes.person.name', type: 'string', mandatory: true },
        ],
      },
      {
        attributeSchema: [
          {
            name: 'person',
            type: {
              struct: [
                { name: 'born', type: 'date' },
                { name: 'name', type: 'integer' },
              ],
            },
          },
          { name: 'loyalty', type: { struct: [{ name: 'points', type: 'double' }] } },
        ],
      },
    );
    expect(mapping.schema.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['person_born', 'date', true],
      ['loyalty_points', 'double', true],
      ['person_name', 'string', false],
    ]);
    expect(mapValues(mapping, ada, ctx)).toEqual([new Date('1815-12-10'), 120, 'Ada']);
  });

  it('reports every problem of a mapping with its path', () => {
    const bad = () =>
      compileMapping({
        fields: [
          { source: 'attributes.a' },
          { source: 'name' },
          { source: 'attributes.b', target: 'a' },
          { source: 'id', type: 'uuid' },
        ],
        dedup: { attributes: ['attributes.a', 'attributes.b', 'attributes.c'] },
      });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (error) {
      const issues = (error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
      expect(issues).toEqual([
        expect.stringMatching(/^fields\[1\]\.source: expected one of id, updatedAt/),
        expect.stringMatching(/^fields\[3\]\.type: expected string, integer/),
        'dedup.attributes: give one or two attributes',
      ]);
    }
    expect(() =>
      compileMapping({ fields: [{ source: 'attributes.a' }, { source: 'attributes.b', target: 'a' }] }),
    ).toThrow('fields[1]: header "a" is already used by fields[0]; set a distinct target');
    expect(() => compileMapping({ fields: [] })).toThrow('fields: map at least one field');
  });

  it('derives member keys: profile id, each identity value, or a composite of attributes', () => {
    const byId = compileMapping({ fields: [{ source: 'id' }] });
    expect(memberKeys(byId, ada)).toEqual([{ key: '["p1"]', parts: ['p1'] }]);
    const byEmail = compileMapping({ fields: [{ source: 'id' }], dedup: { identity: 'email' } });
    expect((memberKeys(byEmail, ada) as { key: string }[]).map((k) => k.key)).toEqual([
      '["ada@example.com"]',
      '["ada@work.example"]',
    ]);
    expect(
      memberKeys(compileMapping({ fields: [{ source: 'id' }], dedup: { identity: 'phone' } }), ada),
    ).toBe('missing:identities.phone');
    const composite = compileMapping({
      fields: [{ source: 'id' }],
      dedup: { attributes: ['attributes.person.name', 'attributes.tags'] },
    });
    expect(memberKeys(composite, ada)).toEqual([
      { key: '["Ada","[\\"vip\\",\\"beta\\"]"]', parts: ['Ada', '["vip","beta"]'] },
    ]);
    expect(byId.id).not.toBe(byEmail.id);
    expect(headerOf({ source: 'identities.email' })).toBe('identities_email');
  });

  it('coerces values to their column type, null when impossible', () => {
    expect(coerce('12', 'integer')).toBe(12);
    expect(coerce('1.5', 'integer')).toBeNull();
    expect(coerce('1.5', 'double')).toBe(1.5);
    expect(coerce('abc', 'double')).toBeNull();
    expect(coerce('true', 'boolean')).toBe(true);
    expect(coerce('yes', 'boolean')).toBeNull();
    expect(coerce('not a date', 'timestamp')).toBeNull();
    expect(coerce({ b: 1, a: [2] }, 'string')).toBe('{"a":[2],"b":1}');
    expect(coerce(7, 'string')).toBe('7');
    expect(coerce(undefined, 'string')).toBeNull();
  });

  it('carries integers beyond 2^53 exactly as bigints, and refuses what 64 bits or a JS number cannot hold', () => {
    expect(coerceValue('9007199254740993', 'integer')).toBe(9007199254740993n);
    expect(coerceValue(' -9007199254740993 ', 'integer')).toBe(-9007199254740993n);
    expect(coerceValue('9007199254740991', 'integer')).toBe(9007199254740991);
    expect(coerceValue('9223372036854775807', 'integer')).toBe(9223372036854775807n);
    expect(coerceValue('-9223372036854775808', 'integer')).toBe(-9223372036854775808n);
    expect(coerceValue(12n, 'integer')).toBe(12);
    expect(coerceValue(-0, 'integer')).toBe(0);
    expect(Object.is(coerceValue(-0, 'integer'), -0)).toBe(false);
    expect(coerceValue('1e3', 'integer')).toBe(1000);
    for (const refused of [
      '9223372036854775808',
      '-9223372036854775809',
      2 ** 53,
      -(2 ** 63),
      1e21,
      '1e21',
      2n ** 63n,
    ])
      expect(coerceValue(refused, 'integer')).toBe(INVALID);
    expect(coerce('9223372036854775808', 'integer')).toBeNull();
  });

  it('keeps -0, subnormals, huge doubles, NaN and the infinities', () => {
    expect(Object.is(coerceValue(-0, 'double'), -0)).toBe(true);
    expect(Object.is(coerceValue('-0', 'double'), -0)).toBe(true);
    expect(coerceValue('5e-324', 'double')).toBe(5e-324);
    expect(coerceValue(1e21, 'double')).toBe(1e21);
    expect(coerceValue('NaN', 'double')).toBeNaN();
    expect(coerceValue(Number.NaN, 'double')).toBeNaN();
    expect(coerceValue('-Infinity', 'double')).toBe(Number.NEGATIVE_INFINITY);
    expect(coerceValue('inf', 'double')).toBe(Number.POSITIVE_INFINITY);
    expect(coerceValue('-INF', 'double')).toBe(Number.NEGATIVE_INFINITY);
    expect(coerceValue('nan-ish', 'double')).toBeNull();
  });

  it('keeps microseconds of timestamps and refuses finer digits', () => {
    expect(coerceValue('2024-01-02T03:04:05.123456Z', 'timestamp')).toBe('2024-01-02T03:04:05.123456Z');
    expect(coerceValue('2024-01-02T05:04:05.000001+02:00', 'timestamp')).toBe('2024-01-02T03:04:05.000001Z');
    expect(coerceValue('1969-12-31T23:59:59.999999Z', 'timestamp')).toBe('1969-12-31T23:59:59.999999Z');
    expect(coerceValue('2024-01-02T03:04:05.123000Z', 'timestamp')).toEqual(
      new Date('2024-01-02T03:04:05.123Z'),
    );
    expect(coerceValue('2024-01-02T03:04:05.123456000Z', 'timestamp')).toBe('2024-01-02T03:04:05.123456Z');
    expect(coerceValue('2024-01-02T03:04:05.1234567Z', 'timestamp')).toBe(INVALID);
    expect(coerceValue(1.5, 'timestamp')).toBe('1970-01-01T00:00:00.001500Z');
  });

  it('refuses strings with lone surrogates, which UTF-8 cannot hold', () => {
    expect(coerceValue('a\ud83d', 'string')).toBe(INVALID);
    expect(coerceValue('\ude00b', 'string')).toBe(INVALID);
    expect(coerceValue('😀 \u2028 \0', 'string')).toBe('😀 \u2028 \0');
  });

  it('converts lists and structs element by element, refusing them whole for one bad element', () => {
    const type = {
      list: {
        struct: [
          { name: 'n', type: 'integer' as const },
          { name: 's', type: 'string' as const },
        ],
      },
    };
    expect(coerceValue([{ n: '9007199254740993', s: 'x', extra: 1 }, null], type)).toEqual([
      { n: 9007199254740993n, s: 'x' },
      null,
    ]);
    expect(coerceValue([{ n: '1e30' }], type)).toBe(INVALID);
    expect(coerceValue('not a list', type)).toBeNull();
  });

  it('refuses a row whose value its column cannot hold, with invalid:<source>', () => {
    const mapping = compileMapping({
      fields: [{ source: 'id' }, { source: 'attributes.n', type: 'integer' }],
    });
    const profile = (n: unknown): Profile => ({ ...ada, attributes: { n } });
    expect(mapValues(mapping, profile('9007199254740993'), ctx)).toEqual(['p1', 9007199254740993n]);
    expect(mapValues(mapping, profile('99999999999999999999'), ctx)).toBe('invalid:attributes.n');
    expect(mapping.fields[1]!.read(profile('99999999999999999999'), ctx)).toBeNull();
  });

  it('fingerprints are stable under key order and sensitive to values', () => {
    expect(canonical({ b: 1, a: new Date(0) })).toBe('{"a":"1970-01-01T00:00:00.000Z","b":1}');
    expect(fingerprint([{ a: 1, b: 2 }])).toBe(fingerprint([{ b: 2, a: 1 }]));
    expect(fingerprint(['a', null])).not.toBe(fingerprint(['a', '']));
    expect(fingerprint([1])).not.toBe(fingerprint(['1']));
    expect(fingerprint(['x'])).toMatch(/^[0-9a-f]{16}$/);
  });
});
