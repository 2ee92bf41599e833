import { describe, expect, it } from 'vitest';
import { ExportError } from '../../../core/errors.ts';
import { collectBytes, fromRows } from '../../../core/streams.ts';
import type { Row, Schema } from '../../../core/types.ts';
import { parquet, plugin } from './index.ts';
import { configError } from '../../../../test/support/config-error.ts';
import { formatContext } from '../../../../test/support/memory-sink.ts';

const ctx = formatContext;

const configIssues = (fn: () => unknown) => configError(fn).issues;

describe('format/parquet stage', () => {
  it('describes itself and refuses outer compression', () => {
    const stage = parquet();
    expect(stage).toMatchObject({
      kind: 'format',
      name: 'parquet',
      extension: 'parquet',
      contentType: 'application/vnd.apache.parquet',
      compressible: false,
      options: { codec: 'snappy', rowGroupSize: 10_000, timestampUnit: 'micros' },
    });
    expect(plugin.name).toBe('format/parquet');
  });

  it('names the field, the expectation and what was received for bad options', () => {
    const issues = configIssues(() =>
      parquet({ codec: 'lz4' as 'gzip', rowGroupSize: 0, extra: 1 } as never),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['codec', 'extra', 'rowGroupSize']);
    const codec = issues.find((i) => i.path === 'codec')!;
    expect(codec.received).toBe('"lz4"');
    expect(codec.expected).toContain('"zstd"');
    expect(configIssues(() => parquet({ codec: 'gzip', level: 12 }))[0]).toMatchObject({ path: 'level' });
  });

  it('refuses zstd on a host that does not provide its wasm, naming the host', () => {
    const [issue] = configIssues(() => parquet({ codec: 'zstd' }, { name: 'elsewhere' }));
    expect(issue).toMatchObject({ path: 'codec', received: '"zstd"' });
    expect(issue!.message).toContain('not available on this host (elsewhere)');
    expect(() => parquet({ codec: 'zstd' }, { zstdWasm: async () => new Uint8Array() })).not.toThrow();
  });

  it('starts and ends the file with the PAR1 magic', async () => {
    const bytes = await collectBytes(
      fromRows([{ a: 'x' }]).pipeThrough(parquet().open(ctx([{ name: 'a', type: 'string' }]))),
    );
    const magic = (at: number) => new TextDecoder().decode(bytes.subarray(at, at + 4));
    expect([magic(0), magic(bytes.length - 4)]).toEqual(['PAR1', 'PAR1']);
  });

  it('reports the column and row of a value that does not fit its type', async () => {
    const rows = [{ n: 1 }, { n: '2' }, { n: 'three' }];
    const out = fromRows(rows).pipeThrough(parquet().open(ctx([{ name: 'n', type: 'integer' }])));
    const error = await collectBytes(out).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect(error).toMatchObject({
      code: 'FORMAT_FAILED',
      plugin: 'format/parquet',
      details: { column: 'n', row: 3 },
    });
    expect((error as Error).message).toContain('expected an integer, got "three"');
  });

  it('refuses null in a column declared not nullable', async () => {
    const schema: Schema = [{ name: 'id', type: 'string', nullable: false }];
    const error = await collectBytes(
      fromRows([{ id: 'a' }, {}]).pipeThrough(parquet().open(ctx(schema))),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FORMAT_FAILED', details: { column: 'id', row: 2 } });
  });

  it('emits a row group before the input ends and takes no more rows while bytes are not read', async () => {
    let converted = 0;
    const row = (): Row => ({
      get v() {
        converted++;
        return 'value';
      },
    });
    const pair = parquet({ rowGroupSize: 10 }).open(ctx([{ name: 'v', type: 'string' }]));
    const writer = pair.writable.getWriter();
    const reader = pair.readable.getReader();
    for (let i = 0; i < 1000; i++) void writer.write([row()]).catch(() => {});
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value!.subarray(0, 4))).toBe('PAR1');
    await new Promise((resolve) => setImmediate(resolve));
    // One group was read; at most the next group was encoded, the rest wait in the queue.
    expect(converted).toBeLessThanOrEqual(20);
    expect(writer.desiredSize!).toBeLessThan(0);
    await reader.cancel();
  });
});
