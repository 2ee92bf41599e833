/**
 * A journey through the typed client generated from /v1/openapi.json (openapi-typescript's
 * src/worker/api-types.d.ts with openapi-fetch), against the Worker in workerd and an export to moto
 * with auth enforced: ingest, destination, audience, dataflow, export now, the run read back. Every
 * answer is parsed with the schema the document declares for it, so a view that drifts from its
 * declaration (a field added, renamed or retyped) fails here.
 */
import createClient from 'openapi-fetch';
import * as v from 'valibot';
import { describe, expect, inject, it } from 'vitest';
import * as views from '../../src/worker/api-views.ts';
import type { components, paths } from '../../src/worker/api-types.d.ts';
import { createApp } from '../../src/worker/app.ts';
import type { RunMessage } from '../../src/worker/env.ts';
import worker from '../../src/worker/index.ts';
import { newOrg, testEnv } from './helpers.ts';
import { motoAdmin } from './moto-client.ts';

const moto = inject('moto');

/**
 * `value` is what `schema` describes, with no field it leaves out: the parse (which drops unknown
 * keys of non-loose objects) gives the value back unchanged.
 */
function conforms<S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> {
  const parsed = v.safeParse(schema, value);
  expect(parsed.issues?.map((i) => `${v.getDotPath(i)}: ${i.message}`) ?? []).toEqual([]);
  expect(parsed.output).toEqual(value);
  return parsed.output;
}

function queueBatch(messages: RunMessage[]) {
  const acked: string[] = [];
  const list = messages.map((body, i) => ({ id: `m${i}`, body, attempts: 1, ack: () => acked.push(`m${i}`), retry: () => {} }));
  return { acked, batch: { queue: 'edge-export-runs', messages: list } };
}

describe('the generated typed client', () => {
  it('runs a journey against the Worker: ingest, destination, audience, dataflow, export now, the run', async () => {
    const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true' });
    const org = await newOrg(e);
    const app = createApp();
    const client = createClient<paths>({
      baseUrl: 'http://edge-export.test/v1',
      fetch: async (request) => app.request(request, undefined, e),
      headers: { Authorization: `Bearer ${org.token}` },
    });

    const ndjson = ['ada', 'bob', 'cyd']
      .map((id, i) => JSON.stringify({ id, identities: { email: [`${id}@example.com`] }, attributes: { tier: i === 1 ? 'silver' : 'gold' } }))
      .join('\n');
    const ingested = await client.POST('/profiles', {
      body: ndjson,
      bodySerializer: (text) => text,
      headers: { 'Content-Type': 'application/x-ndjson' },
    });
    expect(ingested.response.status).toBe(200);
    expect(conforms(views.stored, ingested.data)).toEqual({ stored: 3 });

    const folder = `${moto.folder}typed-client/`;
    const destinationInput: components['schemas']['DestinationInput'] = {
      name: 'typed client',
      bucket: moto.bucket,
      folderPath: `${folder}%SEGMENT_NAME%`,
      region: 'us-east-1',
      endpoint: moto.endpoint,
      auth: { method: 'accessKey', ...moto.writer },
      fileType: 'csv',
    };
    const destination = await client.POST('/destinations', { body: destinationInput });
    expect(destination.response.status).toBe(201);
    const dst = conforms(views.destinationView, destination.data);
    expect(JSON.stringify(dst)).not.toContain(moto.writer.secretAccessKey);

    const refused = await client.POST('/audiences', { body: { kind: 'rule', name: 'gold', rule: 'attributes.tier = ' } });
    expect(refused.response.status).toBe(400);
    expect(conforms(views.errorView, refused.error).error.issues?.[0]?.path).toBe('rule');

    const audience = await client.POST('/audiences', { body: { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' } });
    expect(audience.response.status).toBe(201);
    const aud = conforms(views.audienceView, audience.data);

    const dataflow = await client.POST('/dataflows', {
      body: {
        name: 'gold now',
        destinationId: dst.id,
        audienceIds: [aud.id],
        mapping: { fields: [{ source: 'id' }, { source: 'identities.email', target: 'email' }] },
      },
    });
    expect(dataflow.response.status).toBe(201);
    const flow = conforms(views.createdDataflowView, dataflow.data);
    expect(flow.webhookSecret).toMatch(/^whsec_/);

    const listed = await client.GET('/dataflows', { params: { query: { limit: 10 } } });
    expect(conforms(views.dataflowPage, listed.data).items.map((f) => f.id)).toEqual([flow.id]);

    const queued = await client.POST('/dataflows/{id}/run', { params: { path: { id: flow.id } } });
    expect(queued.response.status).toBe(202);
    const run = conforms(views.runView, queued.data);
    expect(run).toMatchObject({ dataflowId: flow.id, trigger: 'api', status: 'queued' });

    const delivery = queueBatch(e.EXPORTS.sent.filter((m) => m.orgId === org.id));
    expect(delivery.batch.messages).toHaveLength(1);
    await worker.queue(delivery.batch, e);
    expect(delivery.acked).toEqual(['m0']);

    const read = await client.GET('/runs/{id}', { params: { path: { id: run.id } } });
    expect(read.response.status).toBe(200);
    const done = conforms(views.runView, read.data);
    expect(done).toMatchObject({ id: run.id, status: 'succeeded', rows: 2, attempts: 1 });
    const file = done.files?.[0];
    expect(done.files).toHaveLength(1);
    expect(await motoAdmin().list(folder)).toEqual([file?.key]);
    const lines = (await motoAdmin().get(file!.key)).text.trim().split(/\r?\n/);
    expect(lines).toEqual(['id,email', 'ada,ada@example.com', 'cyd,cyd@example.com']);

    const runs = await client.GET('/runs', { params: { query: { dataflowId: flow.id } } });
    expect(conforms(views.runPage, runs.data).items.map((r) => r.id)).toEqual([run.id]);

    const missing = await client.GET('/runs/{id}', { params: { path: { id: 'run_nope' } } });
    expect(missing.response.status).toBe(404);
    expect(conforms(views.errorView, missing.error).error.code).toBe('NOT_FOUND');
  });
});
