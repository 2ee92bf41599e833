import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import type { RunContext } from '../../../core/types.ts';
import { none, plugin } from './index.ts';
import { webPlatform } from '../../../core/platform.ts';

describe('compression/none', () => {
  it('adds no extension, no Content-Encoding and no transform', () => {
    const stage = none();
    expect(stage).toMatchObject({ kind: 'compression', name: 'none', extension: '' });
    expect(stage.contentEncoding).toBeUndefined();
    expect(stage.open({} as RunContext)).toBeNull();
  });

  it('takes no options and refuses unknown ones', () => {
    expect(v.safeParse(plugin.options, undefined).success).toBe(true);
    expect(v.safeParse(plugin.options, {}).success).toBe(true);
    expect(v.safeParse(plugin.options, { level: 9 }).success).toBe(false);
    expect(plugin.create({}, webPlatform())).toMatchObject({ kind: 'compression', name: 'none' });
  });
});
