/**
 * Whole exports (rows → CSV → S3 multipart) through injected S3 faults: 5xx, SlowDown, connection
 * resets, lost responses, slow responses and credentials expiring mid-run. For each kind, several
 * runs; afterwards the bucket is audited: every reported file present and intact (lost 0), nothing
 * published twice (duplicated 0), no stray or partial object (partial 0), no open multipart upload.
 */
import type { S3Client as SdkS3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExportResult, runExport } from '../../src/core/pipeline.ts';
import type { Pipeline } from '../../src/core/registry.ts';
import { fromRows } from '../../src/core/streams.ts';
import { csv } from '../../src/plugins/format/csv/index.ts';
import { nodeFetch } from '../../src/hosts/node/fetch.ts';
import { s3Sink } from '../../src/plugins/sink/s3/index.ts';
import { type Fault, type FaultPlan, seededFaults, startFaultProxy } from '../harness/fault-proxy.ts';
import { type Moto, startMotoWithWriter } from '../harness/moto.ts';
import { audit, type Expiring, expiringCredentials, fastRetry, type FetchFaults, report, rows, runtime, schema, slowFetch } from './support.ts';

const BUCKET = 'reliability-faults';
const MiB = 1024 * 1024;
let moto: Moto;
let reader: SdkS3Client;
let writer: { accessKeyId: string; secretAccessKey: string };

beforeAll(async () => {
  ({ moto, reader, writer } = await startMotoWithWriter(BUCKET, 'reliability-writer'));
}, 60_000);
afterAll(async () => {
  reader?.destroy();
  await moto?.stop();
});

const pipeline: Pipeline = Object.freeze({ format: csv(), naming: [], macros: {}, auth: [] });

interface Scenario {
  name: string;
  plan: FaultPlan;
  /** Faults injected below the proxy, in the fetch the sink uses (around `base`). */
  wrap?: (base: typeof fetch) => FetchFaults | Expiring;
}

const kinds = (k: Fault[]) => k;
const SCENARIOS: Scenario[] = [
  { name: '5xx InternalError', plan: seededFaults(11, 0.25, kinds(['internal-error'])) },
  { name: '503 SlowDown', plan: seededFaults(12, 0.25, kinds(['slow-down'])) },
  { name: 'connection resets', plan: seededFaults(13, 0.2, kinds(['drop'])) },
  { name: 'lost responses', plan: seededFaults(14, 0.2, kinds(['lose-response'])) },
  { name: 'slow responses', plan: () => null, wrap: (base) => slowFetch(15, 0.5, 120, base) },
  { name: 'expired credentials', plan: () => null, wrap: (base) => expiringCredentials(writer, 7, base) },
  { name: 'all of the above', plan: seededFaults(16, 0.2, kinds(['internal-error', 'slow-down', 'drop', 'lose-response'])), wrap: (base) => slowFetch(17, 0.2, 60, base) },
];

/** Run 0: one 2-part file (~7 MiB); runs 1–3: 24,000 rows split into 3 files, each a small multipart. */
const RUNS = [
  { rows: 130_000, maxRows: 1_000_000 },
  { rows: 24_000, maxRows: 10_000 },
  { rows: 24_000, maxRows: 10_000 },
  { rows: 24_000, maxRows: 10_000 },
];

// Both transports the sink runs on: the built-in fetch (workerd, Deno) and Node's (src/hosts/node/fetch.ts).
const TRANSPORTS: [string, typeof fetch][] = [
  ['fetch', fetch],
  ['nodeFetch', nodeFetch],
];

describe.each(TRANSPORTS)('exports under S3 faults over %s lose nothing, duplicate nothing, leave nothing open', (transport, base) => {
  for (const scenario of SCENARIOS) {
    it(scenario.name, async () => {
      let lostCreates = 0;
      const plan: FaultPlan = (req) => {
        const fault = scenario.plan(req);
        if (fault === 'lose-response' && req.method === 'POST' && /[?&]uploads(=|&|$)/.test(req.url)) lostCreates++;
        return fault;
      };
      const proxy = await startFaultProxy(moto.endpoint, plan);
      const wrapper = scenario.wrap?.(base);
      const results: ExportResult[] = [];
      const failures: unknown[] = [];
      const prefix = `rel/${transport}/${scenario.name.replace(/\W+/g, '-')}/`;
      try {
        for (const [i, run] of RUNS.entries()) {
          const sink = s3Sink(
            { bucket: BUCKET, endpoint: proxy.endpoint, partSize: 5 * MiB, concurrency: 2, multipartThreshold: 0, ...writer },
            { retry: fastRetry(12), ...(wrapper && 'credentials' in wrapper && { credentials: wrapper.credentials }) },
          );
          const job = {
            runId: `r${i}`,
            destination: { id: 'dest', name: 'reliability' },
            schema,
            rows: fromRows(rows(run.rows, i * 1_000_000)),
            output: { folderPath: `${prefix}r${i}`, manifest: false, split: { maxRows: run.maxRows } },
          };
          await runExport(pipeline, job, runtime(wrapper?.fetch ?? base, `r${i}`), sink).then(
            (r) => results.push(r),
            (e: unknown) => failures.push(e),
          );
        }
      } finally {
        await proxy.stop();
      }
      const found = await audit(reader, BUCKET, prefix, results);
      const injected = Object.values(proxy.stats.faults).reduce((a, b) => a + b, 0) + (wrapper?.injected() ?? 0);
      report(`${scenario.name} (${transport})`, {
        runs: RUNS.length,
        succeeded: results.length,
        requests: proxy.stats.requests,
        faults: injected,
        files: results.reduce((n, r) => n + r.files.length, 0),
        lost: found.lost,
        duplicated: found.duplicated,
        partial: found.partial,
        openUploads: found.openUploads,
        lostCreateResponses: lostCreates,
      });
      expect(failures).toEqual([]);
      expect(injected).toBeGreaterThan(0);
      expect(results.map((r) => r.rows)).toEqual(RUNS.map((r) => r.rows));
      // A CreateMultipartUpload whose answer was lost is retried and leaves an orphan upload; the sink
      // sweeps open uploads of the key once its own is settled, so none stays open.
      expect(found).toEqual({ lost: 0, duplicated: 0, partial: 0, openUploads: 0, objects: 1 + 3 * 3 });
      if (wrapper && 'refreshes' in wrapper) expect(wrapper.refreshes()).toBeGreaterThan(0);
    }, 90_000);
  }
});
