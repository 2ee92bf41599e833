import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { fixedRuntime, memorySink } from '../../test/support/memory-sink.ts';
import { builtinPlugins } from '../plugins/index.ts';
import { memorySpill, type SpillStore } from './data/spill.ts';
import { ExportError } from './errors.ts';
import { DEFAULT_PARTITION, escapePartitionValue, partitionOf, partitionOptions, partitionSegment, partitionText } from './partition.ts';
import { type ExportJob, runExport } from './pipeline.ts';
import { Registry } from './registry.ts';
import { fromRows } from './streams.ts';

const pipeline = new Registry(builtinPlugins).build({
  plugins: [{ use: 'format/json' }, { use: 'compression/gzip' }, { use: 'naming/segment' }, { use: 'naming/date' }, { use: 'manifest/json' }],
});
const schema = [
  { name: 'id', type: 'integer' },
  { name: 'country', type: 'string' },
] as const;

function job(rows: object[], output: ExportJob['output'], extra: Partial<ExportJob> = {}): ExportJob {
  return {
    runId: 'run-1',
    destination: { id: 'd1', name: 'Lake' },
    audience: { id: 'a1', name: 'All' },
    schema: [...schema],
    rows: fromRows(rows as Record<string, unknown>[]),
    ...(output && { output }),
    ...extra,
  };
}

/** Hive's unescaping: `%XX` back to its character (what DuckDB, Spark and Hive do reading a path). */
const hiveUnescape = (text: string) => text.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));

const hostile = fc.oneof(
  fc.string({ maxLength: 30, unit: 'grapheme' }),
  fc.constantFrom('..', '.', '../x', 'a/b', '/', '\\', '..\\..\\x', '%2e%2e', '\u0000', 'x\ny', 'k=v', '%', '', ' '),
  fc.array(fc.constantFrom('..', '/', '\\', '.', 'a', '%', '=', '\u0000', ' ', 'ü'), { maxLength: 10 }).map((a) => a.join('')),
);

describe('partition folder segments', () => {
  it('escapes the way Hive does, and puts missing values in the default partition', () => {
    expect(partitionSegment('country', 'FR')).toBe('country=FR');
    expect(partitionSegment('city', '../etc')).toBe('city=..%2Fetc');
    expect(partitionSegment('c', 'a/b\\c:d=e%f')).toBe('c=a%2Fb%5Cc%3Ad%3De%25f');
    expect(partitionSegment('c', 'New York')).toBe('c=New York');
    expect(partitionSegment('c', null)).toBe(`c=${DEFAULT_PARTITION}`);
    for (const value of [null, undefined, '']) expect(partitionOf({ c: value }, ['c']).path).toBe(`c=${DEFAULT_PARTITION}`);
    expect(partitionOf({ a: 1, b: true }, ['a', 'b'])).toEqual({ values: ['1', 'true'], path: 'a=1/b=true' });
    expect(partitionOf({ d: new Date('2026-12-05T00:00:00Z') }, ['d']).values).toEqual(['2026-12-05T00:00:00.000Z']);
  });

  it('any value stays one segment (never ., .., /, \\) and reads back as itself', () => {
    fc.assert(
      fc.property(hostile, hostile, (column, value) => {
        let segment: string;
        try {
          segment = partitionSegment(column || 'c', partitionText(value));
        } catch (error) {
          // Only a segment past 255 characters is refused.
          expect((error as ExportError).code).toBe('NAME_TOO_LONG');
          return;
        }
        expect(segment.includes('/')).toBe(false);
        expect(segment.includes('\\')).toBe(false);
        expect(/[\u0000-\u001f]/.test(segment)).toBe(false);
        expect(['.', '..', '']).not.toContain(segment);
        const [name, ...rest] = segment.split('=');
        expect(rest).toHaveLength(1);
        expect(hiveUnescape(name!)).toBe(column || 'c');
        expect(hiveUnescape(rest[0]!)).toBe(value === '' ? DEFAULT_PARTITION : value);
      }),
      { numRuns: 2000, seed: 20 },
    );
    expect(escapePartitionValue('%41')).toBe('%2541');
  });

  it('refuses a segment longer than a file name may be', () => {
    expect(() => partitionSegment('c', 'x'.repeat(300))).toThrow(/at most 255/);
  });

  it('validates the option: one or two distinct columns, a bound of 1 to 10,000', () => {
    expect(v.parse(partitionOptions, { columns: ['a'] })).toEqual({ columns: ['a'], maxPartitions: 1000 });
    const messages = (input: unknown) => {
      const result = v.safeParse(partitionOptions, input);
      return result.success ? [] : result.issues.map((i) => i.message);
    };
    expect(messages({ columns: [] })).toEqual(['partitionBy.columns: one or two output column names']);
    expect(messages({ columns: ['a', 'b', 'c'] })).toEqual(['partitionBy.columns: at most two columns']);
    expect(messages({ columns: ['a', 'a'] })).toEqual(['partitionBy.columns: a column is named twice']);
    expect(messages({ columns: ['a'], maxPartitions: 10_001 })).toEqual(['partitionBy.maxPartitions: at most 10000']);
  });
});

describe('partitioned exports', () => {
  it('hostile partition values never take a key out of the folder', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(hostile, { freq: 4 }), { minLength: 1, maxLength: 6 }), async (values) => {
        const mem = memorySink();
        const rows = values.map((country, id) => ({ id, country }));
        const result = await runExport(pipeline, job(rows, { folderPath: 'exports/%SEGMENT_ID%', partitionBy: { columns: ['country'] }, manifest: false }), fixedRuntime(), mem.sink).catch(
          (e: unknown) => e,
        );
        if (result instanceof Error) {
          expect((result as ExportError).code).toBe('NAME_TOO_LONG');
          expect(mem.objects.size).toBe(0);
          return;
        }
        for (const key of mem.objects.keys()) {
          const parts = key.split('/');
          expect(parts.slice(0, 2)).toEqual(['exports', 'a1']);
          expect(parts).toHaveLength(4);
          expect(parts[2]!.startsWith('country=')).toBe(true);
          expect(parts.every((p) => p !== '' && p !== '.' && p !== '..')).toBe(true);
        }
        expect(new Set(rows.map((r) => partitionOf(r, ['country']).path)).size).toBe(mem.objects.size);
      }),
      { numRuns: 300, seed: 21 },
    );
  });

  it('sorts through the spill store past its budget, one partition after the other, rows in input order', async () => {
    const store = memorySpill();
    let writes = 0;
    const counting: SpillStore = {
      ...store,
      write: async (run, lines) => {
        writes++;
        await store.write(run, lines);
      },
    };
    const countries = ['FR', 'DE', null, 'ES'];
    const rows = Array.from({ length: 2000 }, (_, id) => ({ id, country: countries[(id * 7) % 4] }));
    const mem = memorySink();
    const result = await runExport(
      pipeline,
      job(rows, { folderPath: 'out', fileName: { template: '{audience.id}_{run.id}' }, partitionBy: { columns: ['country'] }, split: { maxRows: 300 } }, { spill: counting, sortBudget: 4096 }),
      fixedRuntime(),
      mem.sink,
    );
    expect(writes).toBeGreaterThan(10);
    // 500 rows a partition at 300 a file: name.json.gz and name_2.json.gz in each.
    expect(result.files.map((f) => f.key)).toEqual(
      ['DE', 'ES', 'FR', DEFAULT_PARTITION].flatMap((c) => [`out/country=${c}/a1_run-1.json.gz`, `out/country=${c}/a1_run-1_2.json.gz`]),
    );
    expect(result.files.map((f) => f.partition)).toEqual(['DE', 'ES', 'FR', null].flatMap((c) => [{ country: c }, { country: c }]));
    for (const country of countries) {
      const inPartition = result.files.filter((f) => f.partition?.country === country);
      const ids: { id: number; country?: unknown }[] = [];
      for (const f of inPartition) {
        const text = await gunzipText(mem.objects.get(f.key)!.body);
        ids.push(...text.trim().split('\n').map((line) => JSON.parse(line) as { id: number; country?: unknown }));
      }
      // The partition column is in the folder, not in the file (Hive-style); rows keep their order.
      expect(ids.every((r) => !('country' in r))).toBe(true);
      expect(ids.map((r) => r.id)).toEqual(rows.filter((r) => r.country === country).map((r) => r.id));
    }
    const manifest = JSON.parse(mem.text(result.manifest!.key));
    expect(manifest.exportResults.map((e: { partition: object }) => e.partition)).toEqual(result.files.map((f) => f.partition));
  });

  it('a run past its partition bound writes nothing and says how to fix it', async () => {
    const mem = memorySink();
    const rows = Array.from({ length: 50 }, (_, id) => ({ id, country: `c${id % 5}` }));
    const error = await runExport(pipeline, job(rows, { partitionBy: { columns: ['country'], maxPartitions: 4 } }), fixedRuntime(), mem.sink).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).code).toBe('PARTITION_LIMIT');
    expect((error as ExportError).message).toContain('more than 4 partitions (partitionBy.maxPartitions); nothing was published');
    expect(mem.objects.size).toBe(0);
  });

  it('the bound holds across the subjects of a run (a shared set of partitions)', async () => {
    const mem = memorySink();
    const partitions = new Set<string>();
    const output = { partitionBy: { columns: ['country'], maxPartitions: 3 }, manifest: false };
    await runExport(pipeline, job([{ id: 1, country: 'a' }, { id: 2, country: 'b' }], output, { partitions }), fixedRuntime(), mem.sink);
    const error = await runExport(pipeline, job([{ id: 3, country: 'c' }, { id: 4, country: 'd' }], output, { partitions }), fixedRuntime(), mem.sink).catch((e: unknown) => e);
    expect((error as ExportError).code).toBe('PARTITION_LIMIT');
  });

  it('refuses a partition column that is not an output column, with a did-you-mean', async () => {
    const error = await runExport(pipeline, job([{ id: 1, country: 'FR' }], { partitionBy: { columns: ['contry'] } }), fixedRuntime(), memorySink().sink).catch((e: unknown) => e);
    expect((error as ExportError).message).toBe('partitionBy.columns: "contry" is not an output column (did you mean "country"?)');
  });
});

function gunzipText(bytes: Uint8Array): Promise<string> {
  return new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'))).text();
}
