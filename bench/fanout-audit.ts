/**
 * The fan-out's bookkeeping, read independently of the Worker: D1's run rows (one per dataflow,
 * attempts = claims), and the bucket listed and read back with @aws-sdk/client-s3 as the admin
 * user. Every (run, audience) has one expected key; a missing or empty one is lost, anything else
 * under the folder is a duplicate.
 */
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Miniflare } from 'miniflare';
import Papa from 'papaparse';
import { DESTINATION_NAME, type FanoutShape, FOLDER, type Tenant, expectedIds } from './fanout-lib.ts';

export interface FanoutAudit {
  runs: number;
  succeeded: number;
  failed: number;
  /** Dataflows with no scheduled run, or with more than one. */
  dataflowsWithoutRun: number;
  dataflowsWithSeveralRuns: number;
  /** Claims of runs (each claim starts one execution); `runs` when nothing was retried. */
  executions: number;
  /** Runs claimed more than once (a retry after a failure, or a duplicate execution). */
  runsClaimedTwice: number;
  exportsExpected: number;
  objects: number;
  lost: number;
  duplicated: number;
  /** Keys a run reports that are not in the bucket, or not expected. */
  reportedMismatches: number;
  openUploads: number;
  contentChecked: number;
  contentMismatches: number;
}

interface RunRecord {
  id: string;
  dataflow_id: string;
  status: string;
  attempts: number;
  files: string | null;
}

const pad = (n: number) => String(n).padStart(2, '0');
const compact = (d: Date) =>
  `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}_${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;

/** The key audience `k` of run `runId` must land at (folder `fanout/%RUN_ID%/%SEGMENT_ID%`, default file name). */
export function expectedKey(tenant: Tenant, runId: string, k: number): string {
  const audience = tenant.audienceIds[k]!;
  return `${FOLDER}/${runId}/${audience}/${DESTINATION_NAME}_${audience}_${compact(tenant.slot)}.csv`;
}

/** Every object under the folder with its size (paginated listing). */
export async function listObjects(s3: S3Client, bucket: string): Promise<Map<string, number>> {
  const objects = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${FOLDER}/`, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) objects.set(o.Key!, o.Size ?? 0);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

async function openUploads(s3: S3Client, bucket: string): Promise<number> {
  const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${FOLDER}/` }));
  return page.Uploads?.length ?? 0;
}

/** Reads one exported CSV back and checks it holds exactly audience k's ids, all with group g<k>. */
async function contentMatches(s3: S3Client, bucket: string, key: string, shape: FanoutShape, k: number) {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = await object.Body!.transformToString();
  const parsed = Papa.parse<{ id: string; group: string }>(text.trim(), { header: true });
  const ids = parsed.data.map((r) => r.id).sort();
  const groups = new Set(parsed.data.map((r) => r.group));
  const want = expectedIds(shape, k);
  return (
    parsed.errors.length === 0 &&
    JSON.stringify(ids) === JSON.stringify(want) &&
    (want.length === 0 || (groups.size === 1 && groups.has(`g${k}`)))
  );
}

/**
 * Audits runs and objects. `contentSample` is the share of runs (0–1) whose objects are read back
 * and compared row by row; 1 reads everything.
 */
export async function auditFanout(
  mf: Miniflare,
  s3: S3Client,
  bucket: string,
  shape: FanoutShape,
  tenant: Tenant,
  contentSample = 1,
): Promise<FanoutAudit> {
  const db = await mf.getD1Database('DB');
  const runs = (
    await db
      .prepare(
        "SELECT id, dataflow_id, status, attempts, files FROM runs WHERE org_id = ? AND trigger = 'schedule'",
      )
      .bind(tenant.orgId)
      .all<RunRecord>()
  ).results;
  const perFlow = new Map<string, number>();
  for (const r of runs) perFlow.set(r.dataflow_id, (perFlow.get(r.dataflow_id) ?? 0) + 1);
  const objects = await listObjects(s3, bucket);
  const expected = new Set<string>();
  let lost = 0;
  let reportedMismatches = 0;
  let contentChecked = 0;
  let contentMismatches = 0;
  const every = contentSample > 0 ? Math.max(1, Math.round(1 / contentSample)) : Number.POSITIVE_INFINITY;
  for (const [index, run] of runs.entries()) {
    const keys = tenant.audienceIds.map((_, k) => expectedKey(tenant, run.id, k));
    for (const key of keys) expected.add(key);
    lost += keys.filter((key) => !objects.get(key)).length;
    const reported = ((JSON.parse(run.files ?? '[]') as { key: string }[]) ?? []).map((f) => f.key);
    reportedMismatches += reported.filter((key) => !keys.includes(key) || !objects.has(key)).length;
    reportedMismatches += Math.abs(keys.length - reported.length);
    if (index % every !== 0) continue;
    for (const [k, key] of keys.entries()) {
      if (!objects.get(key)) continue;
      contentChecked++;
      if (!(await contentMatches(s3, bucket, key, shape, k))) contentMismatches++;
    }
  }
  const duplicated = [...objects.keys()].filter((key) => !expected.has(key)).length;
  return {
    runs: runs.length,
    succeeded: runs.filter((r) => r.status === 'succeeded').length,
    failed: runs.filter((r) => r.status === 'failed').length,
    dataflowsWithoutRun: tenant.dataflowIds.filter((id) => !perFlow.has(id)).length,
    dataflowsWithSeveralRuns: [...perFlow.values()].filter((n) => n > 1).length,
    executions: runs.reduce((sum, r) => sum + r.attempts, 0),
    runsClaimedTwice: runs.filter((r) => r.attempts > 1).length,
    exportsExpected: expected.size,
    objects: objects.size,
    lost,
    duplicated,
    reportedMismatches,
    openUploads: await openUploads(s3, bucket),
    contentChecked,
    contentMismatches,
  };
}
