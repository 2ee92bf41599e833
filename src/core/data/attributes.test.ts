import { describe, expect, it } from 'vitest';
import { emptyNames, learnNames, mappingNames, ruleNames, unknownNames } from './attributes.ts';

describe('profile names a rule or mapping reads', () => {
  const names = emptyNames();
  learnNames(names, { attributes: { country: 'FR', address: { city: 'Lyon' }, vip: true }, identities: { email: ['a@b.c'] } });

  it('flags a misspelt attribute of a rule with the closest real one', () => {
    const issues = unknownNames(ruleNames('contry = "FR" and vip = true and id exists', 'rule'), names, 'no profile has it');
    expect(issues).toEqual([
      {
        path: 'rule',
        message: 'unknown attribute "contry" (did you mean "country"?) in rule: no profile has it',
        expected: 'an attribute profiles have',
        received: '"contry"',
      },
    ]);
  });

  it('reads attributes., identities. and nested paths as their top-level name', () => {
    const uses = ruleNames('attributes.address.city = "Lyon" and identities.emial exists and lower(nme) = "x"', 'audience.rule');
    expect(uses.map((u) => `${u.kind}:${u.name}`)).toEqual(['attribute:address', 'identity:emial', 'attribute:nme']);
    expect(unknownNames(uses, names, 'x').map((i) => i.message)).toEqual([
      'unknown identity namespace "emial" (did you mean "email"?) in audience.rule: x',
      'unknown attribute "nme" in audience.rule: x',
    ]);
    expect(ruleNames('country in [', 'rule')).toEqual([]);
  });

  it('checks mapping sources and dedup keys at their own paths', () => {
    const mapping = {
      fields: [{ source: 'attributes.country' }, { source: 'attributes.contry' }, { source: 'segmentMembership.status' }, { source: 'id' }],
      dedup: { identity: 'emai' },
    };
    expect(unknownNames(mappingNames(mapping, 'mapping'), names, 'x').map((i) => [i.path, i.message])).toEqual([
      ['mapping.fields[1].source', 'unknown attribute "contry" (did you mean "country"?) in mapping.fields[1].source: x'],
      ['mapping.dedup.identity', 'unknown identity namespace "emai" (did you mean "email"?) in mapping.dedup.identity: x'],
    ]);
  });
});
