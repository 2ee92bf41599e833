import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { fixedRuntime, memorySink } from '../../test/support/memory-sink.ts';
import { plugin as json } from './format/json/index.ts';
import { plugin as manifest } from './manifest/json/index.ts';
import { plugin as segment } from './naming/segment/index.ts';
import { runExport, YIELD_ROWS } from '../core/pipeline.ts';
import { Registry } from '../core/registry.ts';
import { fromIterable, fromRows } from '../core/streams.ts';
import { ExportError } from '../core/errors.ts';
import { definePlugin } from '../core/plugin.ts';
import type { ExportedFile, FormatStage, Row, RowBatch } from '../core/types.ts';

const pipeline = new Registry([json, manifest, segment]).build({
  plugins: [{ use: 'format/json' }, { use: 'naming/segment' }, { use: 'manifest/json' }],
});
const destination = { id: 'd1', name: 'dest' };
const audience = { id: 'a1', name: 'Audience One' };

/**
 * Every file but the last is full: within the limit, and its next row (the first line of the next
 * file) would have taken it past.
 */
function expectCutAtTheLimit(mem: ReturnType<typeof memorySink>, files: readonly ExportedFile[], maxBytes: number) {
  files.forEach((file, n) => {
    expect(file.size).toBeLessThanOrEqual(maxBytes);
    const next = files[n + 1];
    if (next) expect(file.size + new TextEncoder().encode(mem.text(next.key).split('\n')[0]!).length + 1).toBeGreaterThan(maxBytes);
  });
}

/** A format that emits its bytes as they come and knows nothing of byte limits (a third party's). */
const opaqueFormat = definePlugin({
  name: 'format/opaque',
  description: 'test format without byte limits',
  options: v.optional(v.object({}), {}),
  create: (): FormatStage => ({
    kind: 'format',
    name: 'opaque',
    extension: 'txt',
    contentType: 'text/plain',
    open: () =>
      new TransformStream<RowBatch, Uint8Array>({
        transform(batch, controller) {
          controller.enqueue(new TextEncoder().encode(batch.map((r) => `${JSON.stringify(r)}\n`).join('')));
        },
      }),
  }),
});

/** A format that refuses the third row, failing its stream with an ExportError. */
const refusingFormat = definePlugin({
  name: 'format/refusing',
  description: 'test format refusing a value',
  options: v.optional(v.object({}), {}),
  create: (): FormatStage => ({
    kind: 'format',
    name: 'refusing',
    extension: 'txt',
    contentType: 'text/plain',
    open: () => {
      let n = 0;
      return new TransformStream<RowBatch, Uint8Array>({
        transform(batch) {
          for (const _ of batch) if (++n === 3) throw new ExportError('FORMAT_FAILED', 'row 3 refused');
        },
      });
    },
  }),
});

function* rows(n: number): Generator<Row> {
  for (let i = 0; i < n; i++) yield { id: i, email: `u${i}@x.io`, score: i / 2 };
}

describe('runExport', () => {
  it('writes files, then the manifest, with rows, sizes and checksums', async () => {
    const mem = memorySink();
    const result = await runExport(
      pipeline,
      { destination, audience, rows: fromRows(rows(5)), runId: 'r1', output: { folderPath: 'out/%SEGMENT_ID%' } },
      fixedRuntime(),
      mem.sink,
    );
    expect(result.files.map((f) => f.key)).toEqual(['out/a1/dest_a1_20260304_050607.json']);
    expect(result.rows).toBe(5);
    const body = mem.text('out/a1/dest_a1_20260304_050607.json');
    expect(body.trim().split('\n').map((l) => JSON.parse(l))).toEqual([...rows(5)]);
    const m = JSON.parse(mem.text('out/a1/manifest-d1-r1.json'));
    expect(m.flowRunId).toBe('r1');
    expect(m.scheduledTime).toBe('2026-03-04T05:06:07.000Z');
    const sha = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body))).toString('hex');
    expect(m.exportResults).toEqual([{ sinkPath: 'out/a1', name: 'dest_a1_20260304_050607.json', size: body.length, rows: 5, sha256: sha }]);
  });

  it('splits at maxRows: name.json, name_2.json, …', async () => {
    const mem = memorySink();
    const result = await runExport(
      pipeline,
      { destination, audience, rows: fromRows(rows(25)), output: { split: { maxRows: 10 }, fileName: { dateTime: 'none' } } },
      fixedRuntime(),
      mem.sink,
    );
    expect(result.files.map((f) => [f.name, f.rows])).toEqual([
      ['dest_a1.json', 10],
      ['dest_a1_2.json', 10],
      ['dest_a1_3.json', 5],
    ]);
  });

  it('splits exactly at a multiple without an empty trailing file', async () => {
    const mem = memorySink();
    const result = await runExport(
      pipeline,
      { destination, audience, rows: fromRows(rows(20)), output: { split: { maxRows: 10 } } },
      fixedRuntime(),
      mem.sink,
    );
    expect(result.files.map((f) => f.rows)).toEqual([10, 10]);
  });

  it('splits at maxBytes: each file stops before the row that would pass the limit', async () => {
    const mem = memorySink();
    const result = await runExport(
      pipeline,
      { destination, audience, rows: fromRows(rows(20_000)), output: { split: { maxBytes: 200_000 } } },
      fixedRuntime(),
      mem.sink,
    );
    expect(result.files.length).toBeGreaterThan(2);
    expect(result.files.reduce((n, f) => n + f.rows, 0)).toBe(20_000);
    expectCutAtTheLimit(mem, result.files, 200_000);
  });

  it('slices batches that straddle maxRows and skips empty batches', async () => {
    const mem = memorySink();
    const all = [...rows(25)];
    const batches: RowBatch[] = [all.slice(0, 7), [], all.slice(7, 19), all.slice(19, 20), [], all.slice(20)];
    const result = await runExport(
      pipeline,
      { destination, audience, rows: fromIterable(batches), output: { split: { maxRows: 10 }, fileName: { dateTime: 'none' } } },
      fixedRuntime(),
      mem.sink,
    );
    expect(result.files.map((f) => f.rows)).toEqual([10, 10, 5]);
    const read = (name: string) => mem.text(name).trim().split('\n').map((l) => JSON.parse(l));
    expect([...read('dest_a1.json'), ...read('dest_a1_2.json'), ...read('dest_a1_3.json')]).toEqual(all);
  });

  it('splits at maxRows when one batch holds several files of rows', async () => {
    const mem = memorySink();
    const result = await runExport(
      pipeline,
      { destination, audience, rows: fromIterable([[...rows(20)], []]), output: { split: { maxRows: 10 } } },
      fixedRuntime(),
      mem.sink,
    );
    expect(result.files.map((f) => f.rows)).toEqual([10, 10]);
  });

  it('cuts at maxBytes inside a large batch, the rest of the batch starting the next file', async () => {
    const mem = memorySink();
    const result = await runExport(
      pipeline,
      { destination, audience, rows: fromRows(rows(20_000), 20_000), output: { split: { maxBytes: 200_000 } } },
      fixedRuntime(),
      mem.sink,
    );
    expect(result.files.length).toBeGreaterThan(2);
    expect(result.files.reduce((n, f) => n + f.rows, 0)).toBe(20_000);
    expectCutAtTheLimit(mem, result.files, 200_000);
    const lines = result.files.flatMap((f) => mem.text(f.key).trimEnd().split('\n'));
    expect(lines.map((l) => JSON.parse(l).id)).toEqual([...rows(20_000)].map((r) => r.id));
  });

  it('checks maxBytes between writes of BYTES_STEP rows for a format that cannot cut at a row', async () => {
    const opaque = new Registry([opaqueFormat]).build({ plugins: [{ use: 'format/opaque' }] });
    const mem = memorySink();
    const result = await runExport(
      opaque,
      { destination, audience, rows: fromRows(rows(20_000), 20_000), output: { split: { maxBytes: 200_000 } } },
      fixedRuntime(),
      mem.sink,
    );
    expect(result.files.length).toBeGreaterThan(2);
    expect(result.files.reduce((n, f) => n + f.rows, 0)).toBe(20_000);
    for (const f of result.files.slice(0, -1)) expect(f.size).toBeGreaterThanOrEqual(200_000);
  });

  it("reports a format's refusal of a value, not the closed stream it leaves", async () => {
    const failing = new Registry([refusingFormat]).build({ plugins: [{ use: 'format/refusing' }] });
    const error = await runExport(
      failing,
      { destination, audience, rows: fromRows(rows(3)) },
      fixedRuntime(),
      memorySink().sink,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as Error).message).toBe('row 3 refused');
  });

  it('lets timers run during a long export', async () => {
    const mem = memorySink();
    let fired = false;
    setTimeout(() => (fired = true), 0);
    let firedBeforeEnd = false;
    async function* watched() {
      yield* rows(YIELD_ROWS * 2);
      firedBeforeEnd = fired;
    }
    await runExport(pipeline, { destination, audience, rows: fromRows(watched()) }, fixedRuntime(), mem.sink);
    expect(firedBeforeEnd).toBe(true);
  });

  it('writes one empty file for an empty audience', async () => {
    const mem = memorySink();
    const result = await runExport(pipeline, { destination, audience, rows: fromRows([]) }, fixedRuntime(), mem.sink);
    expect(result.files).toHaveLength(1);
    expect(result.files[0]!.rows).toBe(0);
  });

  it('takes back published files and writes no manifest when a later file fails', async () => {
    const mem = memorySink({ failOn: (key) => key.includes('_3.') });
    await expect(
      runExport(pipeline, { destination, audience, rows: fromRows(rows(25)), runId: 'r2', output: { split: { maxRows: 10 } } }, fixedRuntime(), mem.sink),
    ).rejects.toThrow(/injected failure/);
    expect([...mem.objects.keys()]).toEqual([]);
    expect(mem.removed).toHaveLength(2);
  });

  it('fails cleanly when the source fails mid-stream', async () => {
    const mem = memorySink();
    async function* broken() {
      yield* rows(3);
      throw new Error('source broke');
    }
    await expect(runExport(pipeline, { destination, audience, rows: fromRows(broken()) }, fixedRuntime(), mem.sink)).rejects.toThrow(
      'source broke',
    );
    expect(mem.objects.size).toBe(0);
  });

  it('re-running a run writes the same keys (deterministic)', async () => {
    const mem = memorySink();
    const job = () => ({ destination, audience, rows: fromRows(rows(3)), runId: 'same', scheduledTime: new Date('2026-01-01T00:00:00Z') });
    const a = await runExport(pipeline, job(), fixedRuntime(), mem.sink);
    const b = await runExport(pipeline, job(), fixedRuntime('2027-01-01T00:00:00Z'), mem.sink);
    expect(b.files.map((f) => f.key)).toEqual(a.files.map((f) => f.key));
    expect(mem.objects.size).toBe(2);
  });
});
