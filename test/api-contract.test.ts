/**
 * The /v1 API contract: the OpenAPI document the routes declare is valid in two independent
 * validators, describes every route the Hono app serves (and no other), gives every operation an
 * operationId and a success schema, and the committed typed client (src/worker/api-types.d.ts) is
 * exactly what openapi-typescript generates from it today.
 */
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { validate as readmeValidate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { API_TYPES_FILE, apiTypes } from '../scripts/api-types.ts';
import { createApp } from '../src/worker/app.ts';
import { apiOperations, openApiDocument } from '../src/worker/openapi.ts';
import { SCOPE_NAMES, SCOPES } from '../src/worker/scopes.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
// biome-ignore lint/suspicious/noExplicitAny: the document is asserted structurally
type Doc = any;

const app = createApp();
/** A fresh copy each time: the validators dereference (and so rewrite) what they are given. */
const documentOf = (): Doc => structuredClone(openApiDocument(app.routes));

/** `METHOD /path` of every operation in the document. */
function documented(doc: Doc): string[] {
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`),
  );
}

describe('the OpenAPI document', () => {
  it('is valid for @apidevtools/swagger-parser', async () => {
    await expect(SwaggerParser.validate(documentOf())).resolves.toMatchObject({ openapi: '3.1.0' });
  });

  it('is valid for @readme/openapi-parser, without warnings', async () => {
    const result = await readmeValidate(documentOf());
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  it('lists every route the app serves under /v1, and nothing else', () => {
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && r.path.startsWith('/v1/'))
        .map((r) => `${r.method} ${r.path.slice('/v1'.length).replace(/:(\w+)/g, '{$1}')}`),
    );
    expect(served.size).toBeGreaterThan(25);
    expect(documented(documentOf()).sort()).toEqual([...served].sort());
    expect(apiOperations(app.routes).undocumented).toEqual([]);
  });

  it('refuses to call a route documented that lacks its declaration', () => {
    const routes = [...app.routes, { method: 'GET', path: '/v1/secret-route', handler: () => undefined }];
    expect(apiOperations(routes).undocumented).toEqual(['GET /secret-route']);
    expect(documented(openApiDocument(routes))).not.toContain('GET /secret-route');
  });

  it('gives every operation a unique operationId, a tag, security, and a 2xx answer with a schema (none for 204)', () => {
    const doc = documentOf();
    const ids: string[] = [];
    for (const key of documented(doc)) {
      const [method, path] = key.split(' ') as [string, string];
      const op = doc.paths[path][method.toLowerCase()];
      ids.push(op.operationId);
      expect(op.operationId, key).toMatch(/^[a-z][A-Za-z]+$/);
      expect(op.tags, key).toHaveLength(1);
      expect(doc.tags.map((t: { name: string }) => t.name), key).toContain(op.tags[0]);
      expect(Array.isArray(op.security), key).toBe(true);
      const success = Object.keys(op.responses).filter((s) => /^2\d\d$/.test(s));
      expect(success, key).toHaveLength(1);
      const answer = op.responses[success[0]!];
      if (success[0] === '204') expect(answer.content, key).toBeUndefined();
      else expect(answer.content['application/json'].schema.$ref, key).toMatch(/^#\/components\/schemas\/\w+$/);
      for (const [status, response] of Object.entries(op.responses as Record<string, Doc>)) {
        if (Number(status) >= 400) expect(response.content['application/json'].schema, `${key} ${status}`).toEqual({ $ref: '#/components/schemas/Error' });
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps every schema in components: no nested $defs, every $ref resolves there', () => {
    const doc = documentOf();
    const text = JSON.stringify(doc);
    expect(text).not.toContain('$defs');
    for (const name of Object.keys(doc.components.schemas)) expect(name).toMatch(/^[A-Z][A-Za-z]+$/);
    const refs = new Set([...text.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!));
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
    }
    // The recursive column types of a dataset, by reference.
    expect(doc.components.schemas.Column.properties.type).toEqual({ $ref: '#/components/schemas/ColumnType' });
  });

  it('declares the three ways in: API tokens (with the scope each operation needs), the admin token, and webhook signatures', () => {
    const doc = documentOf();
    expect(doc.components.securitySchemes).toMatchObject({
      apiToken: { type: 'http', scheme: 'bearer' },
      adminToken: { type: 'http', scheme: 'bearer' },
      webhookSignature: { type: 'apiKey', in: 'header', name: 'X-Edge-Export-Signature' },
    });
    // The scope each operation needs, from the one table the middleware enforces (src/worker/scopes.ts).
    expect(doc.paths['/destinations'].post.security).toEqual([{ apiToken: ['destinations:write'] }]);
    expect(doc.paths['/dataflows/{id}/run'].post.security).toEqual([{ apiToken: ['dataflows:activate'] }]);
    expect(doc.paths['/tokens/current'].get.security).toEqual([{ apiToken: [] }]);
    for (const scope of SCOPE_NAMES) expect(doc.components.securitySchemes.apiToken.description).toContain(`\`${scope}\`: ${SCOPES[scope]}`);
    expect(doc.paths['/admin/organizations'].post.security).toEqual([{ adminToken: [] }]);
    expect(doc.paths['/webhooks/{dataflowId}'].post.security).toEqual([{ webhookSignature: [] }]);
    expect(doc.paths['/openapi.json'].get.security).toEqual([]);
  });

  it('describes request bodies with the schemas the routes parse them with', () => {
    const doc = documentOf();
    const { schemas } = doc.components;
    expect(doc.paths['/dataflows'].post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/DataflowInput' });
    expect(schemas.DataflowInput.properties.skippedRateThreshold.maximum).toBe(1);
    expect(schemas.DataflowInput.properties.schedule).toEqual({ $ref: '#/components/schemas/Schedule' });
    expect(schemas.Schedule.properties.frequency.enum).toContain('hourly');
    expect(schemas.Profile.required).toEqual(['id']);
    const destination = schemas.DestinationInput;
    expect(destination.required).toEqual(expect.arrayContaining(['name', 'bucket', 'auth']));
    expect(destination.properties.fileType.examples).toEqual(['csv', 'json', 'parquet']);
    expect(destination.properties.auth.oneOf.map((m: Doc) => m.properties.method.const)).toEqual(['accessKey', 'assumedRole']);
    // The external id is assigned by edge-export: not an input.
    expect(destination.properties.auth.oneOf[1].properties.externalId).toBeUndefined();
    expect(Object.keys(doc.paths['/profiles'].post.requestBody.content)).toEqual(['application/x-ndjson', 'text/csv']);
  });
});

describe('the typed client', () => {
  it('src/worker/api-types.d.ts is what openapi-typescript generates now (npm run api:types)', async () => {
    expect(readFileSync(API_TYPES_FILE, 'utf8')).toBe(await apiTypes());
  });
});
