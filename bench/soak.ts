/**
 * Soak: back-to-back scheduled-style exports (CSV + gzip → S3 on moto) in one process for a bounded
 * number of runs, sampling heap and RSS after a forced GC. A leak shows as a positive slope between
 * the first and last quarter of the samples. Bounded in count, loopback only.
 *
 * Run: node --expose-gc bin/run-ts.js bench/soak.ts [--runs 300] [--rows 5000] [--snapshots]
 * `--snapshots` compares heap snapshots taken after a GC at a fifth of the runs and at the end, by
 * kind of object, to say what any growth is.
 */
import { readFileSync, rmSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { runExport } from '../src/core/pipeline.ts';
import { fromRows } from '../src/core/streams.ts';
import { nodePlatform } from '../src/hosts/node/platform.ts';
import { hostRegistry } from '../src/service/export-service.ts';
import { createBucket, s3Reader, startMoto } from '../test/harness/moto.ts';
import { type Census, census, censusGrowth } from './inspector.ts';
import { benchRows, benchSchema } from './rows.ts';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
const runs = arg('--runs', 300);
const rows = arg('--rows', 5000);
const snapshots = argv.includes('--snapshots');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

/** A snapshot file's heap counted by kind; the file is removed once read. */
function censusOf(file: string): Census {
  try {
    return census(readFileSync(file, 'utf8'));
  } finally {
    rmSync(file, { force: true });
  }
}

const moto = await startMoto();
const samples: { run: number; heapMiB: number; rssMiB: number }[] = [];
const started = performance.now();
let early: { run: number; file: string } | undefined;
try {
  await createBucket(moto, 'soak');
  await moto.enableAuth();
  const { accessKeyId, secretAccessKey } = moto.admin;
  const pipeline = hostRegistry(nodePlatform()).build({
    plugins: [
      { use: 'format/csv' },
      { use: 'compression/gzip' },
      { use: 'naming/segment' },
      { use: 'manifest/json' },
      { use: 'sink/s3', options: { bucket: 'soak', endpoint: moto.endpoint, forcePathStyle: true, accessKeyId, secretAccessKey } },
    ],
  });
  for (let run = 1; run <= runs; run++) {
    await runExport(
      pipeline,
      {
        runId: `soak-${run}`,
        destination: { id: 'soak', name: 'soak' },
        audience: { id: `aud-${run % 10}`, name: `audience ${run % 10}` },
        schema: benchSchema,
        rows: fromRows(benchRows(rows)),
        output: { folderPath: 'soak/%SEGMENT_ID%', fileName: { dateTime: 'none' } },
      },
      { now: () => new Date(), uuid: () => crypto.randomUUID(), fetch },
    );
    if (run % 10 === 0) {
      gc();
      const m = process.memoryUsage();
      samples.push({ run, heapMiB: m.heapUsed / 2 ** 20, rssMiB: m.rss / 2 ** 20 });
    }
    // Only the file name is kept until the end: counting now would leave the count in the heap.
    if (snapshots && run === Math.ceil(runs / 5)) early = { run, file: writeHeapSnapshot() };
  }
  if (early) {
    const late = writeHeapSnapshot();
    const growth = censusGrowth(censusOf(early.file), censusOf(late), 15);
    console.log(`heap growth by kind over runs ${early.run}–${runs}, after GC (bytes, objects):`);
    for (const g of growth) console.log(`  ${g.bytes} B  ${g.objects}  ${g.kind}`);
  }
  const listed = await s3Reader(moto).send(new ListObjectsV2Command({ Bucket: 'soak', Prefix: 'soak/' }));
  const objects = listed.KeyCount ?? 0;
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = samples.slice(0, quarter);
  const last = samples.slice(-quarter);
  const summary = {
    runs,
    rowsPerRun: rows,
    seconds: Math.round((performance.now() - started) / 1000),
    objects,
    heapFirstQuarterMiB: mean(first.map((s) => s.heapMiB)).toFixed(1),
    heapLastQuarterMiB: mean(last.map((s) => s.heapMiB)).toFixed(1),
    rssFirstQuarterMiB: mean(first.map((s) => s.rssMiB)).toFixed(1),
    rssLastQuarterMiB: mean(last.map((s) => s.rssMiB)).toFixed(1),
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  console.log(`SOAK ${JSON.stringify(summary)}`);
  console.log(samples.map((s) => `${s.run}:${s.heapMiB.toFixed(1)}/${s.rssMiB.toFixed(0)}`).join(' '));
} finally {
  await moto.stop();
}
