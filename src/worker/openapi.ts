/** The OpenAPI 3.1 document of /v1, generated from the same valibot schemas that validate requests. */
import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { datasetRecordSchema, datasetSchema } from '../core/data/model.ts';
import { scheduleSchema } from '../core/schedule/model.ts';
import { dataPaths } from './openapi-data.ts';
import { profileInputSchema } from './records.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './routes/webhooks.ts';
import { destinationSchema } from '../service/destination.ts';
import { builtinPlugins } from '../plugins/index.ts';
import { scopesDescription, tokenInfoSchema, tokenPaths, withScopes } from './openapi-tokens.ts';
import { audienceSchema, dataflowSchema, organizationSchema, tokenSchema } from './schemas.ts';

const convert = (schema: v.GenericSchema) =>
  toJsonSchema(schema, { target: 'draft-2020-12', typeMode: 'input', errorMode: 'ignore' });

/** Names of the built-in plugins of a kind, without the kind: `format` → csv, json, parquet. */
function choices(kind: string): string[] {
  return builtinPlugins.filter((p) => p.name.startsWith(`${kind}/`)).map((p) => p.name.slice(kind.length + 1));
}

/**
 * The destination model's JSON Schema, with the choices the built-in plugins offer (a host with
 * more plugins accepts more: a third-party format is named by its plugin name).
 */
function destinationJsonSchema() {
  const schema = convert(destinationSchema) as { properties: Record<string, Record<string, unknown>> };
  const { properties } = schema;
  properties.fileType = { ...properties.fileType, examples: choices('format'), description: 'A format plugin: csv, json, parquet, or a registered plugin name' };
  properties.compression = { ...properties.compression, examples: ['none', ...choices('compression').filter((c) => c !== 'none')] };
  properties.auth = {
    ...properties.auth,
    description: 'auth.method picks auth/<method> (accessKey: accessKeyId, secretAccessKey, sessionToken?; assumedRole: roleArn, stsRegion?, stsEndpoint?)',
    properties: { method: { type: 'string', enum: choices('auth') } },
  };
  return schema;
}

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        issues: {
          type: 'array',
          items: {
            type: 'object',
            required: ['path', 'message'],
            properties: {
              path: { type: 'string' },
              message: { type: 'string' },
              expected: { type: 'string' },
              received: { type: 'string' },
            },
          },
        },
      },
    },
  },
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const errors = {
  '400': { description: 'Invalid input; every problem listed with its path', ...json(ref('Error')) },
  '401': { description: 'Missing or invalid credentials', ...json(ref('Error')) },
  '403': { description: 'The token lacks the scope this route needs (the error names it)', ...json(ref('Error')) },
  '404': { description: 'Not found in this organization', ...json(ref('Error')) },
  '413': { description: 'Request body over the route\'s limit (docs/SECURITY.md)', ...json(ref('Error')) },
};
const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];

function crud(name: string, create: string, update = create) {
  const one = { parameters: idParam };
  return {
    [`/${name}`]: {
      get: {
        summary: `List ${name}`,
        responses: { '200': { description: 'A page', ...json({ type: 'object' }) }, ...errors },
      },
      post: {
        summary: `Create`,
        requestBody: json(ref(create)),
        responses: { '201': { description: 'Created' }, ...errors },
      },
    },
    [`/${name}/{id}`]: {
      get: { ...one, summary: 'Read', responses: { '200': { description: 'The resource' }, ...errors } },
      put: {
        ...one,
        summary: 'Replace',
        requestBody: json(ref(update)),
        responses: { '200': { description: 'Updated' }, ...errors },
      },
      delete: { ...one, summary: 'Delete', responses: { '204': { description: 'Deleted' }, ...errors } },
    },
  };
}

/** Builds the document (cheap; built per request so it always matches the deployed schemas). */
export function openApiDocument(): Record<string, unknown> {
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'edge-export API',
      version: '1',
      description: 'Export audiences and datasets into S3 on a schedule, a webhook or on demand.',
    },
    servers: [{ url: '/v1' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: scopesDescription() } },
      schemas: {
        Error: errorSchema,
        DestinationCreate: destinationJsonSchema(),
        DestinationUpdate: destinationJsonSchema(),
        Dataflow: convert(dataflowSchema),
        Audience: convert(audienceSchema),
        Schedule: convert(scheduleSchema),
        Organization: convert(organizationSchema),
        Profile: convert(profileInputSchema),
        Dataset: convert(datasetSchema),
        DatasetRecord: convert(datasetRecordSchema),
        Token: convert(tokenSchema),
        TokenInfo: tokenInfoSchema,
      },
    },
    paths: {
      ...crud('destinations', 'DestinationCreate', 'DestinationUpdate'),
      ...crud('dataflows', 'Dataflow'),
      ...crud('audiences', 'Audience'),
      ...dataPaths(),
      ...tokenPaths(),
      '/dataflows/{id}/run': {
        post: {
          summary: 'Export now: enqueue a run',
          description:
            'A dataflow runs one run at a time: a new run waits while another is in flight. Without an Idempotency-Key, a call made while one of the dataflow\'s manual runs is still waiting to start answers with that run.',
          parameters: [...idParam, { name: 'Idempotency-Key', in: 'header', schema: { type: 'string' } }],
          responses: {
            '202': { description: 'The queued run (a new one, or the manual run still waiting to start)' },
            '409': { description: 'Idempotency-Key already used', ...json(ref('Error')) },
            ...errors,
          },
        },
      },
      '/runs': {
        get: {
          summary: 'List runs',
          parameters: [{ name: 'dataflowId', in: 'query', schema: { type: 'string' } }],
          responses: { '200': { description: 'A page' }, ...errors },
        },
      },
      '/runs/{id}': {
        get: {
          summary: 'Run detail',
          parameters: idParam,
          responses: { '200': { description: 'The run' }, ...errors },
        },
      },
      '/webhooks/{id}': {
        post: {
          summary:
            'Signed trigger: HMAC-SHA256 over "<timestamp>.<raw body>", or "<timestamp>.<Idempotency-Key>.<raw body>" when that header is sent; hex or base64; 5-minute window; accepted once',
          security: [],
          parameters: [
            ...idParam,
            { name: SIGNATURE_HEADER, in: 'header', required: true, schema: { type: 'string' } },
            {
              name: TIMESTAMP_HEADER,
              in: 'header',
              required: true,
              schema: { type: 'string', description: 'Unix seconds' },
            },
            {
              name: 'Idempotency-Key',
              in: 'header',
              schema: { type: 'string', description: 'Part of the signed message when sent' },
            },
          ],
          responses: {
            '202': { description: 'The queued run' },
            '401': { description: 'Bad, expired or missing signature', ...json(ref('Error')) },
            '409': { description: 'Replayed or duplicate delivery', ...json(ref('Error')) },
            '413': { description: 'Body over 64 KiB', ...json(ref('Error')) },
          },
        },
      },
      '/admin/organizations': {
        post: {
          summary: 'Create an organization and its first token (ADMIN_TOKEN)',
          requestBody: json(ref('Organization')),
          responses: { '201': { description: 'Created' } },
        },
      },
    },
  };
  withScopes(document.paths as Parameters<typeof withScopes>[0]);
  return document;
}
