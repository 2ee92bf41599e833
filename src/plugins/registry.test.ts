import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { plugin as json } from './format/json/index.ts';
import { plugin as manifest } from './manifest/json/index.ts';
import { plugin as date } from './naming/date/index.ts';
import { plugin as segment } from './naming/segment/index.ts';
import { plugin as discard } from './sink/discard/index.ts';
import { plugin as ndjson } from './source/ndjson/index.ts';
import { definePlugin } from '../core/plugin.ts';
import { Registry } from '../core/registry.ts';
import { configError } from '../../test/support/config-error.ts';

const registry = () => new Registry([json, manifest, date, segment, discard, ndjson]);

const issuesOf = (fn: () => unknown) => configError(fn).issues;

describe('Registry.build', () => {
  it('builds a frozen pipeline with one stage per kind', () => {
    const p = registry().build({
      plugins: [{ use: 'format/json' }, { use: 'naming/segment' }, { use: 'naming/date' }, { use: 'manifest/json' }, { use: 'sink/discard' }],
    });
    expect(p.format.name).toBe('json');
    expect(Object.keys(p.macros)).toEqual(expect.arrayContaining(['SEGMENT_NAME', 'YYYY']));
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.format)).toBe(true);
    expect(p.sink?.name).toBe('discard');
  });

  it('reports every problem at once, each with its path', () => {
    const issues = issuesOf(() =>
      registry().build({
        plugins: [
          { use: 'format/nope' },
          { use: 'format/json', options: { includeNulls: 'yes' } },
          { use: 'manifest/json' },
          { use: 'manifest/json' },
        ],
      }),
    );
    // The formats that failed to build are not also reported as "no format plugin".
    expect(issues.map((i) => i.path)).toEqual(['plugins[0].use', 'plugins[1].options.includeNulls', 'plugins[3]']);
    expect(issues[0]!.expected).toContain('format/json');
    expect(issues[1]!.received).toBe('"yes"');
    expect(issues[2]!.message).toMatch(/second manifest/);
    const missing = issuesOf(() => registry().build({ plugins: [{ use: 'manifest/json' }] }));
    expect(missing.map((i) => [i.path, i.message])).toEqual([['plugins', 'no format plugin; exactly one is required']]);
  });

  it('validates the manifest shape', () => {
    const issues = issuesOf(() => registry().build({ plugins: [], extra: 1 }));
    expect(issues.map((i) => i.path).sort()).toEqual(['extra', 'plugins']);
  });

  it('registers third-party plugins without touching the core', () => {
    const upper = definePlugin({
      name: 'acme/upper-json',
      description: 'test',
      options: v.object({ suffix: v.string() }),
      create: ({ suffix }) => ({
        kind: 'format',
        name: 'upper',
        extension: `u${suffix}`,
        contentType: 'text/plain',
        open: () => new TransformStream(),
      }),
    });
    const p = registry().register(upper).build({ plugins: [{ use: 'acme/upper-json', options: { suffix: 'x' } }] });
    expect(p.format.extension).toBe('ux');
    expect(() => registry().register(upper).register(upper)).toThrow(/already registered/);
  });

  it('refuses an outer compression around a self-compressing format', () => {
    const selfCompressing = definePlugin({
      name: 'acme/packed',
      description: 'test',
      options: v.optional(v.object({}), {}),
      create: () => ({ kind: 'format', name: 'packed', extension: 'p', contentType: 'x', compressible: false, open: () => new TransformStream() }),
    });
    const gz = definePlugin({
      name: 'acme/gz',
      description: 'test',
      options: v.optional(v.object({}), {}),
      create: () => ({ kind: 'compression', name: 'gz', extension: 'gz', open: () => new CompressionStream('gzip') as ReadableWritablePair<Uint8Array, Uint8Array> }),
    });
    const issues = issuesOf(() => registry().register(selfCompressing, gz).build({ plugins: [{ use: 'acme/packed' }, { use: 'acme/gz' }] }));
    expect(issues[0]!.message).toMatch(/compresses internally/);
  });

  it('suggests the closest plugin and option, and never quotes a secret option back, however short', () => {
    const keyed = definePlugin({
      name: 'acme/keyed',
      description: 'test',
      options: v.strictObject({ token: v.pipe(v.string(), v.regex(/^tok_/, 'token: expected tok_…')), label: v.optional(v.string()) }),
      secrets: ['token'],
      create: () => ({ kind: 'auth', name: 'keyed', credentials: async () => null }),
    });
    const issues = issuesOf(() =>
      registry().register(keyed).build({ plugins: [{ use: 'format/jsn' }, { use: 'acme/keyed', options: { token: 'hunter2', lable: 'x' } }] }),
    );
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ['plugins[0].use', 'unknown plugin "format/jsn" (did you mean "format/json"?)'],
      ['plugins[1].options.token', 'expected tok_…, received a 7-character value (withheld: the field is secret)'],
      ['plugins[1].options.lable', 'unknown field "lable" (did you mean "label"?)'],
    ]);
    expect(JSON.stringify(issues)).not.toContain('hunter2');
  });
});
