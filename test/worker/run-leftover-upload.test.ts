/**
 * A run whose export left a multipart upload open (its abort was denied) records that upload, with
 * the command that removes it, in the run's error: what GET /v1/runs/{id} shows and the failure alert carries.
 */
import { describe, expect, it } from 'vitest';
import { ExportError } from '../../src/core/errors.ts';
import type { LeftoverUpload } from '../../src/core/types.ts';
import { consumeBatch, type ExecuteRun } from '../../src/worker/consumer.ts';
import { call, destinationBody, newOrg, testEnv } from './helpers.ts';

describe('a failed run that left an upload open', () => {
  it('records the leftover upload (location, id, bytes, command) in the run error and the failure alert', async () => {
    const e = testEnv();
    const org = await newOrg(e);
    const dest = await call(e, 'POST', '/destinations', { token: org.token, body: destinationBody() });
    const aud = await call(e, 'POST', '/audiences', { token: org.token, body: { kind: 'upload', name: 'list' } });
    const flow = await call(e, 'POST', '/dataflows', {
      token: org.token,
      body: {
        name: 'f',
        destinationId: dest.body.id,
        audienceIds: [aud.body.id],
        mapping: { fields: [{ source: 'id' }] },
        alertWebhook: 'https://hooks.example.com/a',
      },
    });
    const queued = await call(e, 'POST', `/dataflows/${flow.body.id}/run`, { token: org.token });
    expect(queued.status).toBe(202);
    const leftover: LeftoverUpload = {
      location: 's3://acme-exports/audiences/a.csv',
      bucket: 'acme-exports',
      key: 'audiences/a.csv',
      uploadId: 'upload-1',
      bytes: 8388608,
      parts: 1,
      reason: 'Access denied: the credentials are not allowed s3:AbortMultipartUpload on arn:aws:s3:::acme-exports/audiences/a.csv.',
      command: "aws s3api abort-multipart-upload --bucket 'acme-exports' --key 'audiences/a.csv' --upload-id 'upload-1' --region 'us-east-1'",
    };
    const executeRun: ExecuteRun = async () => {
      throw new ExportError('SOURCE_INVALID', 'profile 12: not an object', {
        stage: 'source',
        details: { leftoverUploads: [leftover] },
      });
    };
    const acked: string[] = [];
    const message = { id: 'm0', body: { runId: queued.body.id, orgId: org.id }, attempts: 1, ack: () => acked.push('m0'), retry: () => undefined };
    await consumeBatch({ queue: 'edge-export-runs', messages: [message] }, e, { executeRun });
    expect(acked).toEqual(['m0']);
    const run = (await call(e, 'GET', `/runs/${queued.body.id}`, { token: org.token })).body;
    expect(run).toMatchObject({ status: 'failed', error: { code: 'SOURCE_INVALID', stage: 'source', leftoverUploads: [leftover] } });
    const alerts = await e.DB.prepare('SELECT event, payload FROM alerts WHERE run_id = ? ORDER BY id')
      .bind(queued.body.id)
      .all<{ event: string; payload: string }>();
    const failed = alerts.results.find((a) => a.event === 'run.failed');
    expect(JSON.parse(failed!.payload).error.leftoverUploads).toEqual([leftover]);
  });
});
