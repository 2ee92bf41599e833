/**
 * The fan-out through Miniflare's REAL Queues broker (not a recording queue): 20 dataflows × 10
 * audiences due in one slot, two overlapping cron ticks, the Worker's own consumer exporting CSV to
 * moto (auth enforced, least-privilege writer) through a fault proxy. One run's 5th audience fails
 * every S3 attempt the first time, so that run fails mid-way with a retryable error, the consumer
 * calls `message.retry()`, and the broker redelivers it (after the consumer's 30 s delay); three
 * other messages are sent twice through the real producer (at-least-once delivery). Then: every
 * expected object present with the right rows, none duplicated, no open uploads, every run succeeded,
 * claimed once (twice for the retried one).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditFanout } from '../bench/fanout-audit.ts';
import { fireTicks, seedTenant, waitDrained } from '../bench/fanout-lib.ts';
import { type LocalWorker, startLocalWorker } from '../scripts/local-worker.ts';
import { retryPolicy } from '../src/core/retry.ts';
import { type FaultProxy, type FaultRequest, startFaultProxy } from './harness/fault-proxy.ts';
import { type Moto, startMotoWithWriter } from './harness/moto.ts';

process.env.WRANGLER_SEND_METRICS ??= 'false';
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BUCKET = 'fanout-queues';
const SHAPE = { dataflows: 20, audiences: 10, profiles: 60 };
/** Every attempt of the sink's retry policy fails, so the run itself fails (and is retried by the queue). */
const SINK_ATTEMPTS = retryPolicy().maxAttempts;

/**
 * Fails every PUT to the first object key of the 5th audience (`state.audience`, set once the
 * tenant exists) the proxy sees, SINK_ATTEMPTS times; everything else (and that key afterwards)
 * goes through to moto.
 */
function failOneSubjectOnce() {
  const state = { audience: undefined as string | undefined, target: undefined as string | undefined, failed: 0 };
  const plan = (req: FaultRequest) => {
    if (req.method !== 'PUT') return null;
    const path = req.url.split('?')[0]!;
    if (state.target === undefined && state.audience && path.includes(`/${state.audience}/`)) state.target = path;
    if (path !== state.target || state.failed >= SINK_ATTEMPTS) return null;
    state.failed++;
    return 'internal-error' as const;
  };
  return { state, plan };
}

let moto: Moto;
let reader: S3Client;
let writer: { accessKeyId: string; secretAccessKey: string };
let proxy: FaultProxy | undefined;
let worker: LocalWorker | undefined;
let state: string;

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'fanout-test-'));
  ({ moto, reader, writer } = await startMotoWithWriter(BUCKET, 'fanout-writer'));
});
afterAll(async () => {
  await worker?.stop();
  await proxy?.stop();
  reader?.destroy();
  await moto?.stop();
  await rm(state, { recursive: true, force: true });
});

describe('fan-out over the real Miniflare queue', () => {
  it('20 dataflows × 10 audiences, duplicated ticks and messages, one run retried by the queue: all once', async () => {
    const faults = failOneSubjectOnce();
    proxy = await startFaultProxy(moto.endpoint, faults.plan);
    worker = await startLocalWorker(ROOT, state, 0, {
      queue: { maxBatchSize: 1, maxBatchTimeout: 1, maxRetries: 3 },
      inMemory: true,
    });
    const mf = worker.miniflare;
    const tenant = await seedTenant(SHAPE, {
      url: worker.url,
      adminToken: worker.adminToken,
      s3: { endpoint: proxy.endpoint, bucket: BUCKET, ...writer },
    });
    expect(tenant.dataflowIds).toHaveLength(SHAPE.dataflows);
    faults.state.audience = tenant.audienceIds[4];

    await fireTicks(mf, new Date(tenant.slot.getTime() + 5 * 60_000), 2);
    // At-least-once delivery: three run messages sent a second time through the real producer. The
    // broker is FIFO, so they are consumed before the retried message, which comes back 30 s later.
    const db = await mf.getD1Database('DB');
    const runs = await db
      .prepare('SELECT id FROM runs WHERE org_id = ? ORDER BY id LIMIT 3')
      .bind(tenant.orgId)
      .all<{ id: string }>();
    const producer = await mf.getQueueProducer<{ runId: string; orgId: string }>('EXPORTS');
    for (const r of runs.results) await producer.send({ runId: r.id, orgId: tenant.orgId });

    const counts = await waitDrained(mf, tenant.orgId, SHAPE.dataflows, 110_000);
    expect(counts).toMatchObject({ total: SHAPE.dataflows, succeeded: SHAPE.dataflows, failed: 0 });
    expect(faults.state.failed).toBe(SINK_ATTEMPTS);

    const audit = await auditFanout(mf, reader, BUCKET, SHAPE, tenant, 1);
    expect(audit).toEqual({
      runs: SHAPE.dataflows,
      succeeded: SHAPE.dataflows,
      failed: 0,
      dataflowsWithoutRun: 0,
      dataflowsWithSeveralRuns: 0,
      // The retried run was claimed twice (after its failure); no other run ran more than once.
      executions: SHAPE.dataflows + 1,
      runsClaimedTwice: 1,
      exportsExpected: SHAPE.dataflows * SHAPE.audiences,
      objects: SHAPE.dataflows * SHAPE.audiences,
      lost: 0,
      duplicated: 0,
      reportedMismatches: 0,
      openUploads: 0,
      contentChecked: SHAPE.dataflows * SHAPE.audiences,
      contentMismatches: 0,
    });
    const retried = await db
      .prepare('SELECT id FROM runs WHERE org_id = ? AND attempts = 2')
      .bind(tenant.orgId)
      .first<{ id: string }>();
    expect(faults.state.target).toContain(`/${retried!.id}/${tenant.audienceIds[4]}/`);
    console.log(
      `RELIABILITY | fan-out over Miniflare Queues | ${SHAPE.dataflows} dataflows x ${SHAPE.audiences} audiences, 2 overlapping ticks, ` +
        `3 duplicated messages, 1 run failed by ${SINK_ATTEMPTS} S3 500s and redelivered: runs ${audit.runs}, executions ${audit.executions}, ` +
        `objects ${audit.objects}, lost ${audit.lost}, duplicated ${audit.duplicated}, open uploads ${audit.openUploads}, content checked ${audit.contentChecked}`,
    );
  }, 150_000);
});
