/**
 * Peak RSS of a CSV export to sink/discard with no compression, node:zlib gzip or CompressionStream
 * gzip, or node:zlib with 4-chunk stream buffers, to tell which stage holds memory as rows grow.
 * Run: node --expose-gc bin/run-ts.js bench/memory.ts none|node|web|bounded ROWS
 */
import { Duplex } from 'node:stream';
import { createGzip } from 'node:zlib';
import { runExport } from '../src/core/pipeline.ts';
import { fromRows } from '../src/core/streams.ts';
import { csv } from '../src/plugins/format/csv/index.ts';
import { gzip } from '../src/plugins/compression/gzip/index.ts';
import { zlibGzip } from '../src/hosts/node/gzip.ts';
const nodeGzip = () => gzip({}, { gzip: zlibGzip });
import { discard } from '../src/plugins/sink/discard/index.ts';
import { benchRows, benchSchema } from './rows.ts';
const which = process.argv[2]; const n = Number(process.argv[3]);
/** node:zlib with small stream buffers: Node 20's Duplex.toWeb counts its HWM in chunks (16,384 by default). */
const boundedGzip = {
  ...nodeGzip(),
  open: () => Duplex.toWeb(createGzip({ level: 1, ...({ writableHighWaterMark: 4, readableHighWaterMark: 4 } as object) })) as ReadableWritablePair<Uint8Array, Uint8Array>,
};
const compression = which === 'node' ? nodeGzip() : which === 'web' ? gzip() : which === 'bounded' ? boundedGzip : undefined;
const samples: string[] = [];
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  samples.push(`${Math.round(m.rss / 2 ** 20)}/${Math.round(m.heapUsed / 2 ** 20)}/${Math.round(m.arrayBuffers / 2 ** 20)}`);
}, 1000);
const t = performance.now();
const r = await runExport({ format: csv(), ...(compression && { compression }), naming: [], macros: {}, auth: [] } as never, { destination: { id: 'd', name: 'd' }, schema: benchSchema, rows: fromRows(benchRows(n)), output: { manifest: false, split: { maxRows: 1e12 } } }, { now: () => new Date(), uuid: () => 'u', fetch }, discard());
clearInterval(sampler);
(globalThis as { gc?: () => void }).gc?.();
const after = process.memoryUsage();
console.log('rss/heap/arrayBuffers MiB each second:', samples.join(' '), '| after gc:', Math.round(after.rss / 2 ** 20), Math.round(after.arrayBuffers / 2 ** 20));
console.log(which, n, r.bytes, ((performance.now() - t) / 1000).toFixed(1), 's', Math.round(process.resourceUsage().maxRSS / 1024), 'MiB');
