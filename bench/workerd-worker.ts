/**
 * The Worker that `bench/workerd.ts` runs inside workerd: generates the benchmark rows and exports
 * them as CSV+gzip (CompressionStream, the Workers built-in) to S3 (moto) or to sink/discard.
 * GET /?rows=N&sink=s3|discard[&partSize=B&concurrency=N]; the S3 target comes from the BENCH_S3
 * binding (JSON). GET /retain?mb=N&kind=objects|buffers keeps N MiB alive (proves the heap cap);
 * GET /gc?id=X runs a full collection (needs --expose-gc), then logs `bench-mark X`.
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
const retained: unknown[] = [];

/** Keeps `mb` MiB alive: small JS objects (counted by V8's heap limit) or ArrayBuffers (not). */
function retain(mb: number, kind: string): void {
  for (let i = 0; i < mb; i++) {
    if (kind === 'buffers') retained.push(new Uint8Array(2 ** 20).fill(1));
    else retained.push(Array.from({ length: 16_384 }, (_, j) => ({ j, s: `x${j}` })));
  }
}

function s3Options(env: { BENCH_S3?: string }, q: URLSearchParams): Record<string, unknown> {
  return {
    ...JSON.parse(env.BENCH_S3 ?? '{}'),
    forcePathStyle: true,
    verifyRegion: false,
    ...(q.has('partSize') && { partSize: Number(q.get('partSize')) }),
    ...(q.has('concurrency') && { concurrency: Number(q.get('concurrency')) }),
  };
}

export default {
  async fetch(request: Request, env: { BENCH_S3?: string }): Promise<Response> {
    const url = new URL(request.url);
    const q = url.searchParams;
    if (url.pathname === '/retain') {
      retain(Number(q.get('mb') ?? 0), q.get('kind') ?? 'objects');
      return Response.json({ retainedMiB: retained.length });
    }
    if (url.pathname === '/gc') {
      (globalThis as { gc?: () => void }).gc?.();
      console.log(`bench-mark ${q.get('id')}`); // tells the host the GC trace above is complete
      return Response.json({ gc: typeof (globalThis as { gc?: unknown }).gc === 'function' });
    }
    const rows = Number(q.get('rows') ?? 100_000);
    const sink =
      q.get('sink') === 's3' ? { use: 'sink/s3', options: s3Options(env, q) } : { use: 'sink/discard' };
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
