import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { BUCKET_NAMES } from '../../../../test/support/bucket-names.ts';
import { bucketSchema, RESERVED_BUCKET_PREFIXES, RESERVED_BUCKET_SUFFIXES } from './options.ts';

describe('bucketSchema', () => {
  for (const { name, valid, reason } of BUCKET_NAMES) {
    it(`${valid ? 'accepts' : 'refuses'} ${JSON.stringify(name)}${reason ? ` (${reason})` : ''}`, () => {
      const result = v.safeParse(bucketSchema, name);
      if (valid) {
        expect(result.issues?.map((i) => i.message)).toBeUndefined();
        return;
      }
      expect(result.success).toBe(false);
      expect(result.issues!.map((i) => i.message).join('\n')).toContain(reason);
    });
  }

  it('has a case for every reserved prefix and suffix', () => {
    const refused = BUCKET_NAMES.filter((c) => !c.valid).map((c) => c.name);
    for (const prefix of RESERVED_BUCKET_PREFIXES)
      expect(refused.some((n) => n.startsWith(prefix))).toBe(true);
    for (const suffix of Object.keys(RESERVED_BUCKET_SUFFIXES))
      expect(refused.some((n) => n.endsWith(suffix))).toBe(true);
  });

  it('reports every rule a name breaks, each with its reason', () => {
    const messages = v.safeParse(bucketSchema, 'Xn--..').issues!.map((i) => i.message);
    expect(messages).toHaveLength(3);
    expect(messages.join('\n')).toMatch(/only lowercase letters.*got "X"/);
    expect(messages.join('\n')).toMatch(/begins and ends/);
    expect(messages.join('\n')).toMatch(/two adjacent periods/);
  });
});
