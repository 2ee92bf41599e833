/**
 * Journeys through the typed client generated from /v1/openapi.json (openapi-typescript's
 * src/worker/api-types.d.ts with openapi-fetch), against the Worker in workerd, exporting to moto
 * with auth enforced. Every answer passes through `checked`, which parses it with the schema its
 * route declares (the same one the document names) and requires it back unchanged, so a view that
 * drifts from its declaration (a field added, renamed or retyped) fails here; the second journey
 * calls every documented operation, so no declared answer goes unchecked.
 */
import createClient from 'openapi-fetch';
import * as v from 'valibot';
import { describe, expect, inject, it } from 'vitest';
import { signWebhook } from '../../src/core/security/webhook.ts';
import * as views from '../../src/worker/api-views.ts';
import type { components, paths } from '../../src/worker/api-types.d.ts';
import { createApp } from '../../src/worker/app.ts';
import type { Env, RunMessage } from '../../src/worker/env.ts';
import worker from '../../src/worker/index.ts';
import { apiOperations } from '../../src/worker/openapi.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../src/worker/routes/webhooks.ts';
import { newOrg, testEnv } from './helpers.ts';
import { motoAdmin } from './moto-client.ts';

const moto = inject('moto');
const ADMIN_TOKEN = 'test-admin-token-0123456789';

/**
 * `value` is what `schema` describes, with no field it leaves out: the parse (which drops unknown
 * keys of non-loose objects) gives the value back unchanged.
 */
function conforms<S extends v.GenericSchema>(schema: S, value: unknown, where = ''): v.InferOutput<S> {
  const parsed = v.safeParse(schema, value);
  expect(parsed.issues?.map((i) => `${v.getDotPath(i)}: ${i.message}`) ?? [], where).toEqual([]);
  expect(parsed.output, where).toEqual(value);
  return parsed.output;
}

function queueBatch(messages: RunMessage[]) {
  const acked: string[] = [];
  const list = messages.map((body, i) => ({ id: `m${i}`, body, attempts: 1, ack: () => acked.push(`m${i}`), retry: () => {} }));
  return { acked, batch: { queue: 'edge-export-runs', messages: list } };
}

/**
 * A typed client of the Worker whose every answer is checked against its route's declaration: the
 * declared success status and schema, or the Error schema. `covered` collects the operationIds that
 * answered with success.
 */
function typedClient(e: Env, token?: string) {
  const app = createApp();
  const operations = apiOperations(app.routes).operations.map((o) => ({
    ...o,
    pattern: new RegExp(`^/v1${o.path.replace(/\{\w+\}/g, '[^/]+')}$`),
  }));
  const covered = new Set<string>();
  const client = createClient<paths>({
    baseUrl: 'http://edge-export.test/v1',
    ...(token && { headers: { Authorization: `Bearer ${token}` } }),
    fetch: async (request) => {
      const { pathname } = new URL(request.url);
      const op = operations.find((o) => o.method === request.method && o.pattern.test(pathname));
      expect(op, `${request.method} ${pathname} is not a documented operation`).toBeDefined();
      const response = await app.request(request, undefined, e);
      const where = `${op!.operation.operationId} → ${response.status}`;
      const text = await response.clone().text();
      if (response.ok) {
        expect(response.status, where).toBe(op!.operation.success.status);
        const schema = op!.operation.success.schema;
        if (schema) conforms(schema, JSON.parse(text), where);
        else expect(text, where).toBe('');
        covered.add(op!.operation.operationId);
      } else conforms(views.errorView, JSON.parse(text), where);
      return response;
    },
  });
  return { client, covered, operationIds: operations.map((o) => o.operation.operationId) };
}

const destinationInput = (name: string, folder: string): components['schemas']['DestinationInput'] => ({
  name,
  bucket: moto.bucket,
  folderPath: `${folder}%SEGMENT_NAME%`,
  region: 'us-east-1',
  endpoint: moto.endpoint,
  auth: { method: 'accessKey', ...moto.writer },
  fileType: 'csv',
});

const profiles = (ids: string[]) =>
  ids
    .map((id, i) => JSON.stringify({ id, identities: { email: [`${id}@example.com`] }, attributes: { tier: i === 1 ? 'silver' : 'gold' } }))
    .join('\n');

describe('the generated typed client', () => {
  it('runs a journey against the Worker: ingest, destination, audience, dataflow, export now, the run', async () => {
    const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true' });
    const org = await newOrg(e);
    const { client } = typedClient(e, org.token);

    const ingested = await client.POST('/profiles', {
      body: profiles(['ada', 'bob', 'cyd']),
      bodySerializer: (text) => text,
      headers: { 'Content-Type': 'application/x-ndjson' },
    });
    expect(ingested.data).toEqual({ stored: 3 });

    const folder = `${moto.folder}typed-client/`;
    const destination = await client.POST('/destinations', { body: destinationInput('typed client', folder) });
    expect(destination.response.status).toBe(201);
    const dst = destination.data!;
    expect(JSON.stringify(dst)).not.toContain(moto.writer.secretAccessKey);

    const refused = await client.POST('/audiences', { body: { kind: 'rule', name: 'gold', rule: 'attributes.tier = ' } });
    expect(refused.response.status).toBe(400);
    expect(refused.error?.error.issues?.[0]?.path).toBe('rule');

    const audience = await client.POST('/audiences', { body: { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' } });
    const aud = audience.data!;
    const dataflow = await client.POST('/dataflows', {
      body: {
        name: 'gold now',
        destinationId: dst.id,
        audienceIds: [aud.id],
        mapping: { fields: [{ source: 'id' }, { source: 'identities.email', target: 'email' }] },
      },
    });
    const flow = dataflow.data!;
    expect(flow.webhookSecret).toMatch(/^whsec_/);

    const listed = await client.GET('/dataflows', { params: { query: { limit: 10 } } });
    expect(listed.data?.items.map((f) => f.id)).toEqual([flow.id]);

    const queued = await client.POST('/dataflows/{id}/run', { params: { path: { id: flow.id } } });
    expect(queued.response.status).toBe(202);
    const run = queued.data!;
    expect(run).toMatchObject({ dataflowId: flow.id, trigger: 'api', status: 'queued' });

    const delivery = queueBatch(e.EXPORTS.sent.filter((m) => m.orgId === org.id));
    expect(delivery.batch.messages).toHaveLength(1);
    await worker.queue(delivery.batch, e);
    expect(delivery.acked).toEqual(['m0']);

    const read = await client.GET('/runs/{id}', { params: { path: { id: run.id } } });
    const done = read.data!;
    expect(done).toMatchObject({ id: run.id, status: 'succeeded', rows: 2, attempts: 1 });
    expect(done.files).toHaveLength(1);
    const key = done.files![0]!.key;
    expect(await motoAdmin().list(folder)).toEqual([key]);
    const lines = (await motoAdmin().get(key)).text.trim().split(/\r?\n/);
    expect(lines).toEqual(['id,email', 'ada,ada@example.com', 'cyd,cyd@example.com']);

    const runs = await client.GET('/runs', { params: { query: { dataflowId: flow.id } } });
    expect(runs.data?.items.map((r) => r.id)).toEqual([run.id]);

    const missing = await client.GET('/runs/{id}', { params: { path: { id: 'run_nope' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.error.code).toBe('NOT_FOUND');
  });

  it('calls every documented operation, and each answers as its declaration says', async () => {
    const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true' });
    const anonymous = typedClient(e);
    expect((await anonymous.client.GET('/openapi.json')).data?.openapi).toBe('3.1.0');
    const admin = typedClient(e, ADMIN_TOKEN);
    const org = (await admin.client.POST('/admin/organizations', { body: { name: 'Typed', sandbox: 'dev' } })).data!;
    expect(org.token).toMatch(/^eex_/);
    // Another organization's profiles in shards, set before its first profile (docs/SCALE.md).
    const other = (await admin.client.POST('/admin/organizations', { body: { name: 'Typed sharded' } })).data!;
    const sharded = await admin.client.PUT('/admin/organizations/{id}/shards', { params: { path: { id: other.id } }, body: { shards: 2 } });
    expect(sharded.data?.layout?.shards.map((s) => s.name)).toEqual(['s0', 's1']);
    const layout = await admin.client.GET('/admin/organizations/{id}/shards', { params: { path: { id: other.id } } });
    expect(layout.data).toEqual(sharded.data);
    const { client, covered, operationIds } = typedClient(e, org.token);
    const id = (value: string) => ({ params: { path: { id: value } } });
    const folder = `${moto.folder}typed-all/`;

    const formats = (await client.GET('/plugins', { params: { query: { kind: 'format' } } })).data!;
    expect(formats.items.map((p) => p.destination?.value)).toEqual(['csv', 'json', 'parquet']);
    await client.POST('/profiles', { body: profiles(['ada', 'bob']), bodySerializer: (t) => t, headers: { 'Content-Type': 'application/x-ndjson' } });
    const dst = (await client.POST('/destinations', { body: destinationInput('all', folder) })).data!;
    await client.GET('/destinations', { params: { query: { limit: 5 } } });
    await client.GET('/destinations/{id}', id(dst.id));
    await client.PUT('/destinations/{id}', { ...id(dst.id), body: { ...destinationInput('all, renamed', folder), manifest: true } });
    expect((await client.POST('/destinations/{id}/test', id(dst.id))).data?.ok).toBe(true);
    expect((await client.GET('/destinations/{id}/policies', id(dst.id))).data?.permissionPolicy.Statement.length).toBeGreaterThan(0);
    const spare = (await client.POST('/destinations', { body: destinationInput('spare', folder) })).data!;
    await client.DELETE('/destinations/{id}', id(spare.id));

    // A snapshot source in the Worker's R2 binding: registered, listed, read, changed, tested, deleted.
    await (e as unknown as { SNAPSHOTS: { put(key: string, value: string): Promise<unknown> } }).SNAPSHOTS.put('typed/a.ndjson', '{"id":"ada"}\n');
    const sourceBody = { name: 'snapshot', format: 'ndjson' as const, location: { type: 'r2' as const, binding: 'SNAPSHOTS', prefix: 'typed/' } };
    const src = (await client.POST('/sources', { body: sourceBody })).data!;
    await client.GET('/sources', { params: { query: { limit: 5 } } });
    await client.GET('/sources/{id}', id(src.id));
    await client.PUT('/sources/{id}', { ...id(src.id), body: { ...sourceBody, name: 'snapshot, renamed' } });
    expect((await client.POST('/sources/{id}/test', id(src.id))).data).toMatchObject({ ok: true, files: 1 });
    await client.DELETE('/sources/{id}', id(src.id));

    const rule = (await client.POST('/audiences', { body: { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' } })).data!;
    await client.GET('/audiences', {});
    // A misspelt attribute is saved with warnings (declared, so the schema check covers them), then fixed.
    const misspelt = await client.PUT('/audiences/{id}', { ...id(rule.id), body: { kind: 'rule', name: 'gold', rule: 'attributes.teir != "silver"' } });
    expect(misspelt.data?.warnings?.map((w) => w.path)).toEqual(['rule']);
    const fixed = await client.PUT('/audiences/{id}', { ...id(rule.id), body: { kind: 'rule', name: 'gold', rule: 'attributes.tier != "silver"' } });
    expect(fixed.data?.warnings).toBeUndefined();
    await client.POST('/audiences/{id}/evaluate', id(rule.id));
    // ada is gold, bob silver: one member, skipped by a mandatory field no profile has.
    const preview = await client.POST('/audiences/{id}/preview', {
      ...id(rule.id),
      body: { mapping: { fields: [{ source: 'id' }, { source: 'attributes.nickname', mandatory: true }] } },
    });
    expect(preview.data).toEqual({
      audienceId: rule.id,
      profiles: 2,
      members: 1,
      skipped: 1,
      skippedBy: { 'missing:attributes.nickname': 1 },
      complete: true,
    });
    const upload = (await client.POST('/audiences', { body: { kind: 'upload', name: 'list' } })).data!;
    const imported = await client.POST('/audiences/{id}/members', {
      ...id(upload.id),
      body: 'namespace,value\nemail,ada@example.com\n',
      bodySerializer: (t) => t,
      headers: { 'Content-Type': 'text/csv' },
    });
    expect(imported.data).toMatchObject({ imported: 1, rows: 1 });
    expect((await client.GET('/audiences/{id}', id(upload.id))).data?.members).toBe(1);
    // An upload audience with members (D1 counts the member rows deleted with it).
    expect((await client.DELETE('/audiences/{id}', id(upload.id))).response.status).toBe(204);
    expect((await client.GET('/audiences/{id}', id(upload.id))).response.status).toBe(404);

    const dataset = { id: 'orders', name: 'Orders', schema: [{ name: 'sku', type: 'string' as const }, { name: 'tags', type: { list: 'string' as const } }] };
    await client.POST('/datasets', { body: dataset });
    await client.GET('/datasets', {});
    await client.GET('/datasets/{id}', id('orders'));
    const record = JSON.stringify({ id: 'o1', updatedAt: '2026-04-01T00:00:00Z', values: { sku: 'A', tags: ['x'] } });
    await client.POST('/datasets/{id}/records', { ...id('orders'), body: record, bodySerializer: (t) => t, headers: { 'Content-Type': 'application/x-ndjson' } });

    const flowBody = { name: 'all', destinationId: dst.id, audienceIds: [rule.id], mapping: { fields: [{ source: 'id' }] } };
    const flow = (await client.POST('/dataflows', { body: flowBody })).data!;
    await client.GET('/dataflows', {});
    await client.GET('/dataflows/{id}', id(flow.id));
    const mistyped = await client.PUT('/dataflows/{id}', { ...id(flow.id), body: { ...flowBody, mapping: { fields: [{ source: 'id' }, { source: 'attributes.teir' }] } } });
    expect(mistyped.data?.warnings?.map((w) => w.path)).toEqual(['mapping.fields[1].source']);
    await client.PUT('/dataflows/{id}', { ...id(flow.id), body: { ...flowBody, exportMode: 'incremental', schedule: { frequency: 'daily', time: '06:00', startDate: '2026-04-01' } } });
    const body = '{"event":"audience.evaluated"}';
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signed = await anonymous.client.POST('/webhooks/{dataflowId}', {
      params: {
        path: { dataflowId: flow.id },
        header: { [TIMESTAMP_HEADER]: timestamp, 'Idempotency-Key': 'delivery-1' },
      },
      headers: { [SIGNATURE_HEADER]: await signWebhook(flow.webhookSecret, timestamp, body, 'hex', 'delivery-1') },
      body,
      bodySerializer: (t) => t,
    });
    expect(signed.data).toMatchObject({ dataflowId: flow.id, trigger: 'webhook', status: 'queued' });
    const now = await client.POST('/dataflows/{id}/run', { ...id(flow.id), params: { path: { id: flow.id }, header: { 'Idempotency-Key': 'now-1' } } });
    await client.GET('/runs', { params: { query: { dataflowId: flow.id, limit: 5 } } });
    await client.GET('/runs/{id}', id(now.data!.id));
    // A dataflow with runs, then the destination it used (D1 counts the runs deleted with it).
    expect((await client.DELETE('/dataflows/{id}', id(flow.id))).response.status).toBe(204);
    expect((await client.DELETE('/destinations/{id}', id(dst.id))).response.status).toBe(204);

    // Tokens: the organization's first token holds `all`; a narrow one is issued, rotated, revoked.
    expect((await client.GET('/tokens/current', {})).data).toMatchObject({ scopes: ['all'], current: true });
    const issued = (await client.POST('/tokens', { body: { name: 'run reader', scopes: ['runs:read'] } })).data!;
    expect(issued).toMatchObject({ name: 'run reader', scopes: ['runs:read'], current: false });
    expect(issued.token).toMatch(/^eex_/);
    const listed = (await client.GET('/tokens', {})).data!;
    expect(listed.items.map((t) => t.name)).toEqual(['default', 'run reader']);
    expect(JSON.stringify(listed)).not.toContain(issued.token);
    const reader = typedClient(e, issued.token);
    expect((await reader.client.GET('/runs', {})).response.status).toBe(200);
    const forbidden = await reader.client.GET('/destinations', {});
    expect(forbidden.response.status).toBe(403);
    expect(forbidden.error?.error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('"destinations:read"') });
    const rotated = (await client.POST('/tokens/{id}/rotate', id(issued.id))).data!;
    expect(rotated).toMatchObject({ id: issued.id, rotatedAt: expect.any(String) });
    expect(rotated.token).not.toBe(issued.token);
    expect((await reader.client.GET('/runs', {})).response.status).toBe(401);
    const successor = typedClient(e, rotated.token);
    expect((await successor.client.GET('/tokens/current', {})).data).toMatchObject({ id: issued.id, current: true });
    expect((await client.DELETE('/tokens/{id}', id(issued.id))).response.status).toBe(204);
    expect((await successor.client.GET('/tokens/current', {})).response.status).toBe(401);

    const all = new Set([...covered, ...anonymous.covered, ...admin.covered]);
    const missing = operationIds.filter((op) => !all.has(op));
    expect(missing, 'operations this journey does not call yet: add a step for each').toEqual([]);
  });
});
