import { describe, expect, it } from 'vitest';
import { compileRule } from '../src/core/rules/index.ts';

const now = new Date('2024-06-01T12:00:00Z');

const ann = {
  id: 'p-1',
  identities: { email: ['ann@acme.com', 'Ann@Example.org'], crmId: ['42'], phone: '+33600000000', empty: [] },
  attributes: {
    country: 'FR',
    age: 34,
    score: 7.5,
    vip: true,
    optIn: false,
    nickname: null,
    name: 'Ann',
    tags: ['vip', 'early', 'b2b'],
    scores: [3, 12],
    flags: [false, true],
    nulls: [null, null],
    emptyList: [],
    address: { city: 'Paris', zip: '75001' },
    orders: [
      { sku: 'A1', amount: 30 },
      { sku: 'B2', amount: 120 },
    ],
    lastPurchase: '2024-05-20T10:00:00Z',
    signup: new Date('2023-01-15T00:00:00Z'),
    lastLoginMs: Date.parse('2024-05-31T12:00:00Z'),
    localTime: '2024-06-01T11:00:00',
    offsetTime: '2024-06-01T13:30:00+02:00',
    badDate: '2024-02-30',
    visits: ['2024-05-01', '2024-05-30T08:00:00Z'],
    'first name': 'Ann',
    in: 'keyword',
  },
  updatedAt: '2024-05-31T00:00:00Z',
};

type Case = readonly [rule: string, expected: boolean];

/** Every case evaluated on `ann` at `now`. */
const cases: Record<string, readonly Case[]> = {
  'equality and inequality': [
    ['country = "FR"', true],
    ['country == "FR"', true],
    ['country = "fr"', false],
    ['country != "DE"', true],
    ['country != "FR"', false],
    ['age = 34', true],
    ['age = 34.0', true],
    ['age = "34"', false],
    ['vip = true', true],
    ['optIn = false', true],
    ['optIn = 0', false],
    ['"FR" = country', true],
    ['name = country', false],
    ['name = attributes.name', true],
  ],
  ordering: [
    ['age > 30', true],
    ['age >= 34', true],
    ['age < 34', false],
    ['age <= 34', true],
    ['score > 7', true],
    ['-1 < score', true],
    ['name > "Al"', true],
    ['name < "Al"', false],
    ['age > "30"', false],
    ['age < "30"', false],
    ['vip > false', false],
  ],
  'logic and precedence': [
    ['country = "FR" and age > 30', true],
    ['country = "DE" or age > 30', true],
    ['country = "DE" or age > 30 and vip = false', false],
    ['(country = "DE" or age > 30) and vip = true', true],
    ['not country = "DE"', true],
    ['not not country = "FR"', true],
    ['not country = "DE" and age > 100', false],
    ['not (country = "DE" and age > 100)', true],
    ['country = "DE" or country = "IT" or country = "FR"', true],
    ['vip', true],
    ['optIn', false],
    ['flags', true],
    ['name', false],
    ['not optIn', true],
  ],
  'in, contains, startsWith, endsWith': [
    ['country in ["FR", "DE"]', true],
    ['country in ["IT", "DE"]', false],
    ['country not in ["IT", "DE"]', true],
    ['country not in ["FR"]', false],
    ['age in [33, 34]', true],
    ['age in ["34"]', false],
    ['"vip" in tags', true],
    ['"gold" in tags', false],
    ['country in "FR"', false],
    ['tags in ["b2b", "x"]', true],
    ['name contains "nn"', true],
    ['name contains "NN"', false],
    ['tags contains "vip"', true],
    ['tags contains "vi"', false],
    ['tags contains ["gold", "early"]', true],
    ['scores contains 12', true],
    ['tags not contains "gold"', true],
    ['name startsWith "An"', true],
    ['name startsWith "nn"', false],
    ['name endsWith "nn"', true],
    ['age startsWith "3"', false],
    ['tags startsWith "ea"', true],
  ],
  exists: [
    ['country exists', true],
    ['nickname exists', false],
    ['missing exists', false],
    ['not missing exists', true],
    ['missing not exists', true],
    ['emptyList exists', false],
    ['nulls exists', false],
    ['tags exists', true],
    ['identities.empty exists', false],
    ['optIn exists', true],
    ['nickname = null', true],
    ['missing = null', true],
    ['country = null', false],
    ['country != null', true],
    ['null = missing', true],
    ['missing in ["x", null]', true],
    ['country in ["x", null]', false],
  ],
  'paths, identities and top-level fields': [
    ['address.city = "Paris"', true],
    ['attributes.address.city = "Paris"', true],
    ['address.zip startsWith "75"', true],
    ['address.city.name exists', false],
    ['orders.sku = "B2"', true],
    ['orders.amount > 100', true],
    ['orders.amount > 500', false],
    ['id = "p-1"', true],
    ['attributes.id exists', false],
    ['identities.email = "ann@acme.com"', true],
    ['identities.email endsWith "@acme.com"', true],
    ['identities.email endsWith "@example.org"', false],
    ['lower(identities.email) endsWith "@example.org"', true],
    ['identities.phone startsWith "+33"', true],
    ['identities.crmId in ["42", "43"]', true],
    ['identities.fax exists', false],
    ['email exists', false],
    ['`first name` = "Ann"', true],
    ['`in` = "keyword"', true],
    ['constructor exists', false],
    ['toString exists', false],
    ['address.constructor exists', false],
    ['__proto__ exists', false],
  ],
  'dates, durations and now': [
    ['lastPurchase > now - 30d', true],
    ['lastPurchase > now - 1w', false],
    ['lastPurchase >= @2024-05-20T10:00:00Z', true],
    ['lastPurchase = @2024-05-20T10:00:00Z', true],
    ['lastPurchase = @2024-05-20T12:00:00+02:00', true],
    ['lastPurchase < @2024-05-20', false],
    ['signup < now - 52w', true],
    ['signup = @2023-01-15', true],
    ['signup = "2023-01-15T00:00:00Z"', true],
    ['signup = "2023-01-15T00:00:00.000Z"', true],
    ['lastLoginMs >= now - 1d', true],
    ['lastLoginMs > now - 1d', false],
    ['lastLoginMs > now - 23h', false],
    ['lastLoginMs + 1d >= now', true],
    ['localTime = @2024-06-01T11:00:00Z', true],
    ['offsetTime = @2024-06-01T11:30:00Z', true],
    ['updatedAt > now - 2d', true],
    ['updatedAt > now - 36h', false],
    ['badDate < now', false],
    ['not badDate < now', true],
    ['name < now', false],
    ['vip < now', false],
    ['visits > now - 3d', true],
    ['visits < @2024-01-01', false],
    ['now > @2024-05-31T23:59:59.999Z', true],
    ['now - 90m > @2024-06-01T10:29:00Z', true],
    ['now - (1d + 12h) > @2024-05-31', false],
    ['now - 10s - 500ms < now', true],
    ['@2024-01-01 + 1d = @2024-01-02', true],
    ['lastPurchase in [@2024-05-20T10:00:00Z, @2024-05-21]', true],
    ['signup exists and now exists', true],
    ['missing > now - 30d', false],
    ['not missing > now - 30d', true],
  ],
  'arithmetic and functions': [
    ['age + 1 = 35', true],
    ['age - 4 = 30', true],
    ['name + 1 = 1', false],
    ['length(tags) = 3', true],
    ['length(name) >= 3', true],
    ['length(age) exists', false],
    ['upper(country) = "FR"', true],
    ['lower(name) = "ann"', true],
    ['lower(age) exists', false],
    ['(age > 30) = true', true],
    ['(age > 30) != vip', false],
  ],
};

describe('rule semantics on one rich profile', () => {
  for (const [group, table] of Object.entries(cases)) {
    describe(group, () => {
      it.each(table)('%s → %s', (rule, expected) => {
        expect(compileRule(rule)(ann, now)).toBe(expected);
      });
    });
  }
});

/** Profiles missing things, or holding the wrong types: evaluation must answer, never throw. */
const odd: readonly unknown[] = [
  {},
  { id: 1 },
  { attributes: null, identities: null },
  { attributes: 'text', identities: 42 },
  { attributes: [1, 2], identities: ['a'] },
  {
    attributes: {
      country: 3,
      age: 'x',
      tags: 'vip',
      address: 'Paris',
      orders: [1, null, [2]],
      lastPurchase: true,
    },
  },
  { attributes: { country: ['FR'], age: [40], lastPurchase: ['nope', 12], address: { city: null } } },
  { attributes: Object.create(null), updatedAt: 'yesterday' },
  null,
  undefined,
  'profile',
];

const everyRule = Object.values(cases).flatMap((table) => table.map(([rule]) => rule));

describe('missing and mistyped fields', () => {
  it('never throws on any rule and any odd profile', () => {
    const rules = everyRule.map((r) => compileRule(r));
    for (const profile of odd) {
      for (const rule of rules) expect(typeof rule(profile as never, now)).toBe('boolean');
    }
  });

  it.each([
    ['country = "FR"', false],
    ['country != "FR"', true],
    ['age > 1', false],
    ['age <= 1', false],
    ['not age > 1', true],
    ['tags contains "vip"', false],
    ['country in ["FR"]', false],
    ['country not in ["FR"]', true],
    ['lastPurchase > now - 30d', false],
    ['lastPurchase <= now - 30d', false],
    ['country exists', false],
    ['country = null', true],
    ['identities.email endsWith "@acme.com"', false],
  ] as const)('on an empty profile: %s → %s', (rule, expected) => {
    expect(compileRule(rule)({}, now)).toBe(expected);
  });

  it.each([
    ['country = "FR"', true],
    ['age > 39', true],
    ['lastPurchase > now - 30d', false],
    ['lastPurchase < now', true],
    ['address.city exists', false],
  ] as const)('lists and nulls where scalars were expected: %s → %s', (rule, expected) => {
    expect(compileRule(rule)(odd[6] as never, now)).toBe(expected);
  });

  it('treats an invalid evaluation time as no time at all', () => {
    expect(compileRule('lastPurchase > now - 30d')(ann, new Date('nope'))).toBe(false);
    expect(compileRule('lastPurchase > now - 30d')(ann, now.getTime())).toBe(true);
  });
});
