import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { fixedRuntime, memorySink } from '../../test/support/memory-sink.ts';
import { builtinPlugins } from '../plugins/index.ts';
import { knownTokens, parseTemplate, renderTemplate, TEMPLATE_TOKENS, unknownTokens } from './name-template.ts';
import { fileNameOptions } from './naming.ts';
import { runExport } from './pipeline.ts';
import { Registry } from './registry.ts';
import { fromRows } from './streams.ts';
import type { NamingContext } from './types.ts';

const pipeline = new Registry(builtinPlugins).build({
  plugins: [{ use: 'format/csv' }, { use: 'compression/gzip' }, { use: 'naming/segment' }, { use: 'naming/date' }],
});
const ctx: NamingContext = {
  ...fixedRuntime(),
  runId: 'run-7',
  scheduledTime: new Date('2026-03-04T05:06:07Z'),
  destination: { id: 'dest-9', name: 'Acme S3', organization: 'acme', sandbox: 'prod' },
  audience: { id: 'seg-1', name: 'VIP buyers/EU' },
};

describe('file-name templates', () => {
  it('renders every reference naming part as a token, and the folder macros too', () => {
    expect(renderTemplate('{destination}_{audience.id}_{YYYY}{MM}{DD}_{run.id}', pipeline.macros, ctx)).toBe('Acme_S3_seg-1_20260304_run-7');
    expect(renderTemplate('{audience.name}-{datetime}-{unix}-{destination.id}-{organization}-{sandbox}', pipeline.macros, ctx)).toBe(
      'VIP_buyers_EU-20260304_050607-1772600767-dest-9-acme-prod',
    );
    expect(renderTemplate('x{HH}{MI}{SS}_{date}_{SEGMENT_NAME}_{DT}', pipeline.macros, ctx)).toBe('x050607_2026-03-04_VIP_buyers_EU_dt=2026-03-04');
    expect(renderTemplate('{dataset.id}', pipeline.macros, { ...ctx, audience: undefined, dataset: { id: 'orders' } } as NamingContext)).toBe('orders');
  });

  it('reports syntax and character problems, all at once', () => {
    expect(parseTemplate('{a}_b').problems).toEqual([]);
    expect(parseTemplate('a/b{x').problems.map((p) => p.message)).toEqual([
      'character "/" at position 2 is not allowed; literal text may hold A-Z a-z 0-9 _ - . = +',
      '"{" at position 4 has no closing "}"',
    ]);
    expect(parseTemplate('x}').problems.map((p) => p.message)).toEqual(['"}" at position 2 has no opening "{"']);
    expect(parseTemplate('{9x}').problems.map((p) => p.message)).toEqual(['"{9x}" at position 1 is not a token name (letters, digits, _ and .)']);
    expect(parseTemplate('').problems.map((p) => p.message)).toEqual(['must not be empty']);
    expect(parseTemplate('.hidden').problems.map((p) => p.message)).toEqual(['must not start with "."']);
    expect(parseTemplate('x'.repeat(201)).problems.map((p) => p.message)).toEqual(['at most 200 characters (it has 201)']);
    const parsed = v.safeParse(fileNameOptions, { template: 'a b' });
    expect(parsed.success).toBe(false);
    expect(parsed.issues?.[0]?.message).toBe('template: character " " at position 2 is not allowed; literal text may hold A-Z a-z 0-9 _ - . = +');
  });

  it('names unknown tokens with the closest known one', () => {
    expect(unknownTokens('{destination}_{audiance.id}_{runid}_{YYY}_{zzz}', pipeline.macros).map((u) => u.message)).toEqual([
      'unknown token {audiance.id} (did you mean "{audience.id}"?)',
      'unknown token {runid} (did you mean "{run.id}"?)',
      'unknown token {YYY} (did you mean "{YYYY}"?)',
      `unknown token {zzz}; known: ${knownTokens(pipeline.macros).map((k) => `{${k}}`).join(' ')}`,
    ]);
    expect(Object.keys(TEMPLATE_TOKENS)).toEqual(expect.arrayContaining(['destination', 'audience.id', 'run.id', 'YYYY', 'MM', 'DD']));
  });

  it('split suffixes and the stages\' extensions still apply', async () => {
    const mem = memorySink();
    const result = await runExport(
      pipeline,
      {
        runId: 'run-7',
        scheduledTime: ctx.scheduledTime,
        destination: ctx.destination,
        audience: { id: 'seg-1', name: 'x' },
        rows: fromRows(Array.from({ length: 5 }, (_, id) => ({ id }))),
        output: { folderPath: 'out', fileName: { template: '{audience.id}_{run.id}' }, split: { maxRows: 2 } },
      },
      fixedRuntime(),
      mem.sink,
    );
    expect(result.files.map((f) => f.key)).toEqual(['out/seg-1_run-7.csv.gz', 'out/seg-1_run-7_2.csv.gz', 'out/seg-1_run-7_3.csv.gz']);
  });

  it('hostile token values stay in the file name: never a separator, never outside the folder', async () => {
    const hostile = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('..', '../../etc', '/', 'a\\b', '\u0000', ' . '));
    await fc.assert(
      fc.asyncProperty(hostile, hostile, async (name, id) => {
        const mem = memorySink();
        const result = await runExport(
          pipeline,
          {
            runId: 'r',
            destination: { id: 'd', name: name || 'n' },
            audience: { id: id || 'a', name },
            rows: fromRows([{ id: 1 }]),
            output: { folderPath: 'out', fileName: { template: '{destination}_{audience.id}_{audience.name}' }, manifest: false },
          },
          fixedRuntime(),
          mem.sink,
        );
        const [key] = result.files.map((f) => f.key);
        expect(key!.startsWith('out/')).toBe(true);
        expect(key!.split('/')).toHaveLength(2);
        expect(/[\\\u0000]/.test(key!)).toBe(false);
      }),
      { numRuns: 500, seed: 22 },
    );
  });
});
