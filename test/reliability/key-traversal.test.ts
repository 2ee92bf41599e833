/**
 * Object keys cannot be steered out of the destination folder: not through the folder template,
 * macros fed by audience, dataset or destination names, custom file-name text, a naming plugin's
 * own macro values, nor the S3 prefix. Fuzzed names always yield a confined key, or a refusal
 * before anything is written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, ExportError } from '../../src/core/errors.ts';
import { type ExportJob, runExport } from '../../src/core/pipeline.ts';
import { Registry } from '../../src/core/registry.ts';
import { fromRows } from '../../src/core/streams.ts';
import type { NamingStage, SinkStage } from '../../src/core/types.ts';
import { localSink } from '../../src/plugins/sink/local/index.ts';
import { builtinPlugins } from '../../src/plugins/index.ts';
import { s3Sink } from '../../src/plugins/sink/s3/index.ts';
import { runtime } from './support.ts';

const pipeline = new Registry(builtinPlugins).build({ plugins: [{ use: 'format/csv' }, { use: 'naming/segment' }, { use: 'naming/date' }] });

/** Keeps the keys it was asked to write (bodies are drained, not stored). */
function recordingSink(): SinkStage & { keys: string[] } {
  const keys: string[] = [];
  return {
    kind: 'sink',
    name: 'recording',
    keys,
    async write(_ctx, file) {
      keys.push(file.key);
      await file.body.pipeTo(new WritableStream());
      return { key: file.key, size: 0, location: `mem:${file.key}` };
    },
  };
}

function job(overrides: Partial<ExportJob>): ExportJob {
  return {
    destination: { id: 'dest', name: 'acme' },
    schema: [{ name: 'id', type: 'integer' }],
    rows: fromRows([{ id: 1 }]),
    output: { manifest: false },
    ...overrides,
  };
}

/** A confined key: under `exports/`, no empty, `.` or `..` segment, no backslash or NUL. */
function expectConfined(key: string): void {
  expect(key.startsWith('exports/'), key).toBe(true);
  expect(key.split('/').every((s) => s !== '' && s !== '.' && s !== '..'), key).toBe(true);
  expect(/[\\\0]/.test(key), key).toBe(false);
}

const hostile = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('..', '.', '../..', '../../etc/passwd', '/etc', 'a/../../b', '..\\..\\x', '%2e%2e', '\u0000..', ' .. ', 'x/', '/'),
  fc.array(fc.constantFrom('..', '/', '\\', '.', 'a', '%', '\u0000', ' '), { maxLength: 12 }).map((a) => a.join('')),
);
const TEMPLATES = ['exports', 'exports/%SEGMENT_NAME%', 'exports/%YYYY%/%SEGMENT_NAME%/%SEGMENT_ID%', 'exports/%DESTINATION_ID%/%RUN_ID%', 'exports/%DATASET_ID%'];

describe('object-key path traversal is refused', () => {
  it.each(['/exports/x', 'exports//x'])('folderPath %j is normalised to a confined key', async (folderPath) => {
    const sink = recordingSink();
    await runExport(pipeline, job({ output: { folderPath, manifest: false } }), runtime(), sink);
    expect(sink.keys).toHaveLength(1);
    expectConfined(sink.keys[0]!);
  });

  it.each(['../x', 'exports/../../x', 'exports\\..\\x', 'exports/./x'])('folderPath %j is refused before any write', async (folderPath) => {
    const sink = recordingSink();
    const error = await runExport(pipeline, job({ output: { folderPath, manifest: false } }), runtime(), sink).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path).join()).toMatch(/folderPath/);
    expect(sink.keys).toEqual([]);
  });

  it('fuzzed audience, dataset, destination names, ids and custom text never escape the folder', async () => {
    let refused = 0;
    let written = 0;
    const codes: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.record({ template: fc.constantFrom(...TEMPLATES), name: hostile, id: hostile, dest: hostile, text: fc.option(hostile, { freq: 3 }), dataset: fc.boolean() }),
        async ({ template, name, id, dest, text, dataset }) => {
          const sink = recordingSink();
          const target = dataset ? { dataset: { id } } : { audience: { id, name } };
          const result = await runExport(
            pipeline,
            job({
              destination: { id: dest || 'd', name: dest || 'n' },
              ...target,
              output: { folderPath: template, fileName: { ...(text !== null && { customText: text }), audienceName: true, destinationId: true }, manifest: false },
            }),
            runtime(),
            sink,
          ).catch((e: unknown) => e);
          if (result instanceof Error) {
            expect(result).toBeInstanceOf(ExportError);
            expect(['KEY_UNSAFE', 'NAME_TOO_LONG', 'CONFIG_INVALID']).toContain((result as ExportError).code);
            expect(sink.keys).toEqual([]);
            refused++;
            codes[(result as ExportError).code] = (codes[(result as ExportError).code] ?? 0) + 1;
          } else {
            for (const key of sink.keys) expectConfined(key);
            written++;
          }
        },
      ),
      { numRuns: 1500, seed: 99 },
    );
    console.log(`RELIABILITY | key traversal fuzz | cases=1500 | written=${written} | refused=${refused} ${JSON.stringify(codes)} | escaped=0`);
    expect(written).toBeGreaterThan(0);
  });

  it("a naming plugin's hostile macro value cannot add segments", async () => {
    const evil: NamingStage = { kind: 'naming', name: 'evil', macros: { EVIL: () => '../../../etc' } };
    const sink = recordingSink();
    await runExport({ ...pipeline, macros: { ...pipeline.macros, ...evil.macros } }, job({ output: { folderPath: 'exports/%EVIL%', manifest: false } }), runtime(), sink);
    expect(sink.keys).toHaveLength(1);
    for (const key of sink.keys) expectConfined(key);
    expect(sink.keys[0]!.split('/')).toHaveLength(3);
  });

  it('the local sink refuses a key that would leave its directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-export-traversal-'));
    try {
      const sink = localSink({ directory: join(dir, 'root') });
      const body = fromRows([]).pipeThrough(new TransformStream<unknown, Uint8Array>());
      const error = await sink.write(runtime() as never, { key: '../outside.csv', contentType: 'text/csv', body }).catch((e: unknown) => e);
      expect((error as ExportError).code).toBe('KEY_UNSAFE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(['../x', 'a/../b', '/abs', 'a\\b', 'a/./b', 'a//b'])('the S3 sink refuses prefix %j', (prefix) => {
    expect(() => s3Sink({ bucket: 'acme-exports', prefix, accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' })).toThrow(ConfigError);
  });
});
