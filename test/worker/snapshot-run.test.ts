/**
 * The Worker as deployed (src/worker/index.ts) runs a dataflow whose audience reads a snapshot
 * source: the source registered through the API over Parquet files in moto (auth enforced), the run
 * fanned out to one task per unit through the queue, every message handled by the Worker's own
 * queue handler, the members read back from moto independently.
 */
import { describe, expect, inject, it } from 'vitest';
import type { RunMessage } from '../../src/worker/env.ts';
import worker from '../../src/worker/index.ts';
import { customerParquet, customerRows } from '../support/snapshot-fixtures.ts';
import { call, newOrg, testEnv } from './helpers.ts';
import { motoAdmin, motoDestinationBody } from './moto-client.ts';
import { AwsClient } from 'aws4fetch';

const moto = inject('moto');
// Under the e2e folder: reliability-security checks that no test leaves objects outside it.
const PREFIX = `${moto.folder}snapshots/fanout-run/`;

async function put(key: string, body: Uint8Array): Promise<void> {
  const aws = new AwsClient({ ...moto.admin, service: 's3', region: 'us-east-1' });
  const res = await aws.fetch(`${moto.endpoint}/${moto.bucket}/${key}`, { method: 'PUT', body: body as BodyInit });
  if (!res.ok) throw new Error(`PutObject ${key}: ${res.status} ${await res.text()}`);
}

function batchOf(message: RunMessage) {
  return {
    queue: 'edge-export-runs',
    messages: [{ id: 'm', body: message, attempts: 1, timestamp: new Date(), ack: () => {}, retry: () => {} }],
  };
}

describe('a dataflow over a snapshot source, on the deployed Worker', () => {
  it('plans the Parquet snapshot, runs one task per unit through the queue, and exports exactly the rule’s members', async () => {
    // Two files of 3 row groups (100, 100, 50 rows): with rowsPerTask 1000 one unit per file.
    const rows = [...customerRows(250, 1), ...customerRows(250, 251)];
    await put(`${PREFIX}part-0.parquet`, customerParquet(rows.slice(0, 250), 100));
    await put(`${PREFIX}part-1.parquet`, customerParquet(rows.slice(250), 100));

    const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true' });
    const org = await newOrg(e);
    const api = (method: string, path: string, body?: unknown) => call(e, method, path, { token: org.token, ...(body !== undefined && { body }) });
    const source = await api('POST', '/sources', {
      name: 'crm',
      format: 'parquet',
      rowsPerTask: 1000,
      location: { type: 's3', bucket: moto.bucket, region: 'us-east-1', endpoint: moto.endpoint, prefix: PREFIX, auth: { method: 'accessKey', accessKeyId: moto.admin.accessKeyId, secretAccessKey: moto.admin.secretAccessKey } },
    });
    expect(source.status, source.text).toBe(201);
    const audience = await api('POST', '/audiences', { kind: 'rule', name: 'fr', rule: 'country = "FR" and score >= 20', sourceId: source.body.id });
    expect(audience.status, audience.text).toBe(201);
    const folder = `${moto.folder}snapshot-run/`;
    const destination = await api('POST', '/destinations', motoDestinationBody(folder, { fileType: 'csv' }));
    expect(destination.status, destination.text).toBe(201);
    const flow = await api('POST', '/dataflows', {
      name: 'fr from the snapshot',
      destinationId: destination.body.id,
      audienceIds: [audience.body.id],
      mapping: { fields: [{ source: 'id' }, { source: 'identities.email', target: 'email' }, { source: 'attributes.country', target: 'country' }] },
    });
    expect(flow.status, flow.text).toBe(201);
    const started = await api('POST', `/dataflows/${flow.body.id}/run`);
    expect(started.status, started.text).toBe(202);

    // Every message the run sends (the run, its tasks, the run again) goes to the Worker's queue handler.
    const mine = () => e.EXPORTS.sent.filter((m) => m.orgId === org.id);
    for (let handled = 0; handled < mine().length; handled++) {
      expect(handled).toBeLessThan(20);
      await worker.queue(batchOf(mine()[handled]!) as never, e);
    }
    expect(mine().filter((m) => 'task' in m && m.task !== undefined)).toHaveLength(2);

    const run = (await api('GET', `/runs/${started.body.id}`)).body;
    expect(run.status).toBe('succeeded');
    const expected = rows.filter((r) => r.country === 'FR' && r.score >= 20).map((r) => `${r.id},${r['identities.email']},FR`);
    expect(run.rows).toBe(expected.length);
    const s3 = motoAdmin();
    const keys = (await s3.list(folder)).filter((k) => !k.includes('manifest'));
    expect(keys).toHaveLength(1);
    const lines = (await s3.get(keys[0]!)).text.trim().split(/\r?\n/);
    expect(lines[0]).toBe('id,email,country');
    expect(lines.slice(1).sort()).toEqual(expected.sort());
  });
});
