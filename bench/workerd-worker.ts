/**
 * The Worker that `bench/workerd.ts` runs inside workerd: generates the benchmark rows and exports
 * them as CSV+gzip (CompressionStream, the Workers built-in) to S3 (moto) or to sink/discard.
 * GET /?rows=N&sink=s3|discard; the S3 target comes from the bindings (BENCH_S3, JSON).
 */
import { runExport } from '../src/core/pipeline.ts';
import { Registry } from '../src/core/registry.ts';
import { fromRows } from '../src/core/streams.ts';
import { plugin as gzip } from '../src/plugins/compression/gzip/index.ts';
import { plugin as csv } from '../src/plugins/format/csv/index.ts';
import { plugin as discard } from '../src/plugins/sink/discard/index.ts';
import { plugin as s3 } from '../src/plugins/sink/s3/index.ts';
import { benchRows, benchSchema } from './rows.ts';

const registry = new Registry([csv, gzip, s3, discard]);

export default {
  async fetch(request: Request, env: { BENCH_S3?: string }): Promise<Response> {
    const q = new URL(request.url).searchParams;
    const rows = Number(q.get('rows') ?? 100_000);
    const sink =
      q.get('sink') === 's3'
        ? {
            use: 'sink/s3',
            options: { ...JSON.parse(env.BENCH_S3 ?? '{}'), forcePathStyle: true, verifyRegion: false },
          }
        : { use: 'sink/discard' };
    const pipeline = registry.build({ plugins: [{ use: 'format/csv' }, { use: 'compression/gzip' }, sink] });
    const result = await runExport(
      pipeline,
      {
        destination: { id: 'bench', name: 'bench' },
        schema: benchSchema,
        rows: fromRows(benchRows(rows)),
        output: { manifest: false, split: { maxRows: Number.MAX_SAFE_INTEGER } },
      },
      { now: () => new Date(), uuid: () => crypto.randomUUID(), fetch: (input, init) => fetch(input, init) },
    );
    return Response.json({ rows: result.rows, bytes: result.bytes, key: result.files[0]?.key });
  },
};
