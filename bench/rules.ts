/**
 * Rule engine throughput: the same rules over the same generated profiles, evaluated by our compiled
 * closures and by json-logic-js, in one process. Checks both agree, prints evaluations/s and the ratio.
 * Run: npx tsx bench/rules.ts [profiles=1000000] [rounds=3]
 */
import { createRequire } from 'node:module';
import { compileRule, type Predicate, type RuleProfile } from '../src/core/rules/index.ts';

type JsonLogic = { apply(logic: unknown, data: unknown): unknown };
const jsonLogic = createRequire(import.meta.url)('json-logic-js') as JsonLogic;

const count = Number(process.argv[2] ?? 1_000_000);
const rounds = Number(process.argv[3] ?? 3);
const now = new Date('2024-06-01T00:00:00Z');
const DAY = 86_400_000;

/** Deterministic PRNG (mulberry32) so every run sees the same profiles. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeProfiles(n: number): RuleProfile[] {
  const rnd = random(42);
  const countries = ['FR', 'DE', 'IT', 'ES', 'US', 'GB'];
  const cities = ['Paris', 'Lyon', 'Berlin', 'Rome', 'Madrid'];
  const tagPool = ['vip', 'churn', 'new', 'b2b', 'promo'];
  const domains = ['@acme.com', '@gmail.com', '@example.org'];
  const profiles: RuleProfile[] = [];
  for (let i = 0; i < n; i++) {
    const tags = tagPool.filter(() => rnd() < 0.25);
    const country = countries[Math.floor(rnd() * countries.length)];
    const age = 16 + Math.floor(rnd() * 60);
    const score = Math.floor(rnd() * 100);
    const vip = rnd() < 0.3;
    const lastPurchase = now.getTime() - Math.floor(rnd() * 90 * DAY);
    const address = { city: cities[Math.floor(rnd() * cities.length)] };
    // One profile in ten lacks an age, as real profiles lack fields.
    const attributes =
      rnd() < 0.1
        ? { country, score, vip, tags, lastPurchase, address }
        : { country, age, score, vip, tags, lastPurchase, address };
    const email = `user${i}${domains[Math.floor(rnd() * domains.length)]}`;
    const updatedAt = new Date(now.getTime() - Math.floor(rnd() * 30 * DAY)).toISOString();
    profiles.push({ id: `p${i}`, identities: { email: [email] }, attributes, updatedAt });
  }
  return profiles;
}

const threshold = now.getTime() - 30 * DAY;
const v = (name: string) => ({ var: name });

/** Each rule in our language and its json-logic equivalent (json-logic has no `now`: the threshold is precomputed). */
const rules: ReadonlyArray<{ name: string; ours: string; logic: unknown }> = [
  {
    name: 'in + range',
    ours: 'country in ["FR", "DE"] and age >= 18',
    logic: { and: [{ in: [v('attributes.country'), ['FR', 'DE']] }, { '>=': [v('attributes.age'), 18] }] },
  },
  {
    name: 'recent purchase',
    ours: 'lastPurchase > now - 30d and vip = true',
    logic: {
      and: [{ '>': [v('attributes.lastPurchase'), threshold] }, { '===': [v('attributes.vip'), true] }],
    },
  },
  {
    name: 'list + identity suffix',
    ours: 'tags contains "vip" or identities.email endsWith "@acme.com"',
    logic: {
      or: [
        { in: ['vip', v('attributes.tags')] },
        { some: [v('identities.email'), { '===': [{ substr: [v(''), -9] }, '@acme.com'] }] },
      ],
    },
  },
  {
    name: 'nested boolean',
    ours: '(country = "FR" and score > 50) or (country = "DE" and not tags contains "churn") or age < 25',
    logic: {
      or: [
        { and: [{ '===': [v('attributes.country'), 'FR'] }, { '>': [v('attributes.score'), 50] }] },
        {
          and: [{ '===': [v('attributes.country'), 'DE'] }, { '!': { in: ['churn', v('attributes.tags')] } }],
        },
        { and: [{ '!!': [v('attributes.age')] }, { '<': [v('attributes.age'), 25] }] },
      ],
    },
  },
  {
    // ISO strings, as the store keeps updatedAt: json-logic compares them as strings (valid for Z-normalised ISO).
    name: 'ISO updatedAt',
    ours: 'updatedAt > now - 7d',
    logic: { '>': [v('updatedAt'), new Date(now.getTime() - 7 * DAY).toISOString()] },
  },
  {
    name: 'nested path',
    ours: 'address.city = "Paris" and score >= 10',
    logic: {
      and: [{ '===': [v('attributes.address.city'), 'Paris'] }, { '>=': [v('attributes.score'), 10] }],
    },
  },
];

/** Evaluations per second of `test` over every profile, best of `rounds`; also returns the match count. */
function measure(
  test: (p: RuleProfile) => boolean,
  profiles: readonly RuleProfile[],
): { rate: number; matches: number } {
  let best = 0;
  let matches = 0;
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    matches = 0;
    for (const p of profiles) if (test(p)) matches++;
    best = Math.max(best, profiles.length / ((performance.now() - started) / 1000));
  }
  return { rate: best, matches };
}

const fmt = (rate: number) => `${(rate / 1e6).toFixed(2)}M/s`.padStart(9);

const started = performance.now();
const profiles = makeProfiles(count);
console.log(
  `${count} profiles generated in ${((performance.now() - started) / 1000).toFixed(1)} s; best of ${rounds} rounds\n`,
);
console.log(
  `${'rule'.padEnd(24)} ${'matches'.padStart(8)} ${'ours'.padStart(9)} ${'json-logic'.padStart(10)}  ratio`,
);
let oursTotal = 0;
let logicTotal = 0;
for (const rule of rules) {
  const predicate: Predicate = compileRule(rule.ours);
  const ours = measure((p) => predicate(p, now), profiles);
  const logic = measure((p) => jsonLogic.apply(rule.logic, p) === true, profiles);
  if (ours.matches !== logic.matches)
    throw new Error(`${rule.name}: ours matched ${ours.matches}, json-logic ${logic.matches}`);
  oursTotal += count / ours.rate;
  logicTotal += count / logic.rate;
  const ratio = (ours.rate / logic.rate).toFixed(1);
  console.log(
    `${rule.name.padEnd(24)} ${String(ours.matches).padStart(8)} ${fmt(ours.rate)} ${fmt(logic.rate).padStart(10)}  ${ratio}×`,
  );
}
const all = (n: number) => (rules.length * count) / n;
console.log(
  `\n${'all rules'.padEnd(33)} ${fmt(all(oursTotal))} ${fmt(all(logicTotal)).padStart(10)}  ${(logicTotal / oursTotal).toFixed(1)}× (target ≥ 5×)`,
);
