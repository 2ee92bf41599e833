/**
 * The OpenAPI 3.1 document of /v1, read from the Hono app's route table: each route's `describe`
 * declaration (api-spec.ts) gives its operation, the scope table (scopes.ts, which the middleware
 * enforces) its security and scope, and the valibot schemas it names become `components.schemas`,
 * converted by @valibot/to-json-schema with every reference (recursive column types included)
 * pointing at `#/components/schemas/…`.
 */
import { toJsonSchema, toJsonSchemaDefs } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { columnSchema, columnTypeSchema, datasetRecordSchema } from '../core/data/model.ts';
import { mappingSchema } from '../core/data/mapping.ts';
import { fileNameOptions } from '../core/naming.ts';
import { partitionOptions } from '../core/partition.ts';
import { scheduleSchema } from '../core/schedule/model.ts';
import { builtinPlugins } from '../plugins/index.ts';
import { destinationSchema } from '../service/destination.ts';
import { snapshotSourceSchema } from '../core/snapshot/schema.ts';
import { type ErrorStatus, type Operation, operationOf, type Param, type Security } from './api-spec.ts';
import * as views from './api-views.ts';
import { profileInputSchema } from './records.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './routes/webhooks.ts';
import {
  audiencePreviewSchema,
  audienceSchema,
  dataflowSchema,
  datasetInputSchema,
  organizationSchema,
  organizationShardsSchema,
  tokenSchema,
} from './schemas.ts';
import { ADMIN_TOKEN, ANY_TOKEN, type Access, PUBLIC, ROUTE_ACCESS, SCOPES, WEBHOOK_SIGNATURE } from './scopes.ts';

/** Every schema the document names, by component name; a route's schema must be one of these. */
const COMPONENTS = {
  Error: views.errorView,
  Warning: views.warningView,
  DestinationInput: destinationSchema,
  Destination: views.destinationView,
  DestinationPage: views.destinationPage,
  ConnectionTest: views.connectionTest,
  Policies: views.policies,
  SourceInput: snapshotSourceSchema,
  Source: views.sourceView,
  SourcePage: views.sourcePage,
  SourceTest: views.sourceTest,
  DataflowInput: dataflowSchema,
  Dataflow: views.dataflowView,
  CreatedDataflow: views.createdDataflowView,
  SavedDataflow: views.savedDataflowView,
  DataflowPage: views.dataflowPage,
  Mapping: mappingSchema,
  Schedule: scheduleSchema,
  FileNaming: fileNameOptions,
  PartitionBy: partitionOptions,
  AudienceInput: audienceSchema,
  Audience: views.audienceView,
  SavedAudience: views.savedAudienceView,
  AudiencePage: views.audiencePage,
  UploadResult: views.uploadResult,
  Evaluation: views.evaluation,
  AudiencePreviewInput: audiencePreviewSchema,
  AudiencePreview: views.audiencePreview,
  Profile: profileInputSchema,
  DatasetInput: datasetInputSchema,
  Dataset: views.datasetView,
  DatasetList: views.datasetList,
  Column: columnSchema,
  ColumnType: columnTypeSchema,
  DatasetRecord: datasetRecordSchema,
  Stored: views.stored,
  Run: views.runView,
  RunPage: views.runPage,
  OrganizationInput: organizationSchema,
  CreatedOrganization: views.createdOrganization,
  OrganizationShardsInput: organizationShardsSchema,
  OrganizationShards: views.organizationShards,
  TokenInput: tokenSchema,
  Token: views.tokenView,
  TokenList: views.tokenList,
  IssuedToken: views.issuedToken,
  OpenApiDocument: views.openApiView,
  Plugin: views.pluginView,
  PluginList: views.pluginList,
} satisfies Record<string, v.GenericSchema>;

type JsonObject = Record<string, unknown>;

/** A route of the Hono app, as `app.routes` lists it. */
export interface RouteEntry {
  readonly method: string;
  readonly path: string;
  readonly handler: unknown;
}

/**
 * A documented operation: its method, its OpenAPI path (`/destinations/{id}`), its declaration, and
 * its route as the scope table keys it (`POST /v1/destinations/:id/test`).
 */
export interface ApiOperation {
  readonly method: string;
  readonly path: string;
  readonly operation: Operation;
  readonly route: string;
}

/** The base path the document's server names; routes outside it (the console) are not the API. */
export const API_BASE = '/v1';

/**
 * The API's routes in `routes` (one per method and path, middleware left out): those declared with
 * `describe`, and those that are not (which the contract test refuses).
 */
export function apiOperations(routes: readonly RouteEntry[]): { operations: ApiOperation[]; undocumented: string[] } {
  const byRoute = new Map<string, { method: string; path: string; route: string; operation?: Operation }>();
  for (const route of routes) {
    if (route.method === 'ALL' || !route.path.startsWith(`${API_BASE}/`)) continue;
    const path = route.path.slice(API_BASE.length).replace(/:(\w+)/g, '{$1}');
    const key = `${route.method} ${path}`;
    const entry = byRoute.get(key) ?? { method: route.method, path, route: `${route.method} ${route.path}` };
    entry.operation ??= operationOf(route.handler);
    byRoute.set(key, entry);
  }
  const operations: ApiOperation[] = [];
  const undocumented: string[] = [];
  for (const [key, { method, path, route, operation }] of byRoute) {
    if (operation) operations.push({ method, path, operation, route });
    else undocumented.push(key);
  }
  return { operations, undocumented };
}

/** Names of the built-in plugins of a kind, without the kind: `format` → csv, json, parquet. */
function choices(kind: string): string[] {
  return builtinPlugins.filter((p) => p.name.startsWith(`${kind}/`)).map((p) => p.name.slice(kind.length + 1));
}

/** Request bodies as clients send them (before defaults); checks JSON Schema cannot say are left out. */
const CONVERSION = { target: 'draft-2020-12', typeMode: 'input', errorMode: 'ignore' } as const;

/** The components, converted once: refs between them (and recursive ones) point into components. */
function convertComponents(): Record<string, JsonObject> {
  const converted = toJsonSchemaDefs(COMPONENTS, {
    ...CONVERSION,
    overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
  }) as unknown as Record<string, JsonObject>;
  // The plugin choices of a destination: a host with more plugins accepts more (a third-party format
  // is named by its plugin name), so they are examples, not an enum.
  const destination = converted.DestinationInput as { properties: Record<string, JsonObject> };
  const { properties } = destination;
  properties.fileType = { ...properties.fileType, examples: choices('format'), description: 'A format plugin: csv, json, parquet, or another registered one (GET /v1/plugins?kind=format lists them: avro when edge-export-avro is installed)' };
  properties.compression = { ...properties.compression, examples: ['none', ...choices('compression').filter((c) => c !== 'none')] };
  properties.auth = authJsonSchema();
  // A schema reached through v.lazy but not named in COMPONENTS comes back as a component with a
  // generated name ("0"): refuse it, so every component has a name a client can use.
  const unnamed = Object.keys(converted).filter((name) => !(name in COMPONENTS));
  if (unnamed.length > 0) throw new Error(`openapi: schemas named ${unnamed.join(', ')} by the converter; add them to COMPONENTS in openapi.ts`);
  return converted;
}

/**
 * `auth`: one of the auth plugins, each as `{method, ...its options}` from the plugin's own options
 * schema. The external id of an assumed role is assigned by edge-export, so it is not an input.
 */
function authJsonSchema(): JsonObject {
  const methods = builtinPlugins
    .filter((p) => p.name.startsWith('auth/'))
    .map((plugin) => {
      const method = plugin.name.slice('auth/'.length);
      const options = toJsonSchema(plugin.options, CONVERSION) as { properties?: JsonObject; required?: string[] };
      const { externalId: _assigned, ...properties } = options.properties ?? {};
      return {
        ...options,
        title: method,
        description: plugin.description,
        properties: { method: { const: method }, ...properties },
        required: ['method', ...(options.required ?? []).filter((name) => name !== 'externalId')],
      };
    });
  return {
    description: 'How edge-export signs in to S3: auth.method picks the plugin auth/<method>, its options sit beside it',
    oneOf: methods,
    discriminator: { propertyName: 'method' },
  };
}

let components: Record<string, JsonObject> | undefined;
const nameOf = new Map<unknown, string>(Object.entries(COMPONENTS).map(([name, schema]) => [schema, name]));

/** `#/components/schemas/<name>` of a registered schema; an unregistered one is a programming error. */
function ref(schema: v.GenericSchema, where: string): JsonObject {
  const name = nameOf.get(schema);
  if (!name) throw new Error(`${where}: its schema is not one of the document's components (add it to COMPONENTS in openapi.ts)`);
  return { $ref: `#/components/schemas/${name}` };
}

const errorBody = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** What a route needs, from the scope table; a documented route the table does not list is a programming error. */
function accessOf({ route }: ApiOperation): Access {
  const access = Object.hasOwn(ROUTE_ACCESS, route) ? ROUTE_ACCESS[route] : undefined;
  if (access === undefined) throw new Error(`${route}: not in ROUTE_ACCESS (src/worker/scopes.ts), so no token may call it; declare its scope there`);
  return access;
}

/** True for the routes an API token calls: those needing a scope, and those any token may call. */
const byToken = (access: Access) => access === ANY_TOKEN || Object.hasOwn(SCOPES, access);

/** The operation's `security`: its scheme, and for an API token the scope it needs (OpenAPI 3.1 lets any scheme list roles). */
function securityOf(access: Access): Partial<Record<Security, string[]>>[] {
  if (access === PUBLIC) return [];
  if (access === WEBHOOK_SIGNATURE) return [{ webhookSignature: [] }];
  if (access === ADMIN_TOKEN) return [{ adminToken: [] }];
  return [{ apiToken: access === ANY_TOKEN ? [] : [access] }];
}

/** The refusals of an operation: those its access, body and path imply, then its own. */
function errorsOf(method: string, path: string, op: Operation, access: Access): Record<string, JsonObject> {
  const errors: Partial<Record<ErrorStatus | 500, string>> = {};
  if (op.body) errors[400] = 'Invalid input: every problem is listed in error.issues with its path';
  if (access === WEBHOOK_SIGNATURE) errors[401] = 'Bad, expired or missing signature';
  else if (access === ADMIN_TOKEN) errors[401] = 'Missing or wrong ADMIN_TOKEN';
  else if (byToken(access)) errors[401] = 'Missing, unknown, revoked or rotated-away token';
  if (access !== ANY_TOKEN && Object.hasOwn(SCOPES, access)) errors[403] = `FORBIDDEN: the token lacks the scope "${access}" (the error names it)`;
  if (byToken(access) && path.includes('{')) errors[404] = 'Not found in this organization';
  if (method === 'POST' || method === 'PUT') errors[413] = "Request body over the route's limit (docs/SECURITY.md)";
  for (const [status, text] of Object.entries(op.errors ?? {}) as [`${ErrorStatus}`, string][]) {
    const implied = errors[Number(status) as ErrorStatus];
    // A route's own 403 adds to the scope's (it may refuse more, never less).
    errors[Number(status) as ErrorStatus] = status === '403' && implied ? `${implied}; ${text}` : text;
  }
  errors[500] = 'Internal error (the message says no more)';
  return Object.fromEntries(Object.entries(errors).map(([status, text]) => [status, errorBody(text)]));
}

const parameter = (where: 'query' | 'header') => (p: Param) => ({
  name: p.name,
  in: where,
  required: p.required ?? false,
  description: p.description,
  schema: { type: p.type ?? 'string' },
});

/** One operation object. */
function operationObject(entry: ApiOperation): JsonObject {
  const { method, path, operation: op } = entry;
  const where = `${method} ${path}`;
  const access = accessOf(entry);
  const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    // `/dataflows/{id}` → the dataflow's id; `{dataflowId}` says it itself.
    description: name === 'id' ? `The ${op.tag.toLowerCase().replace(/s$/, '')}'s id` : `The ${name!.replace(/Id$/, '')}'s id`,
    schema: { type: 'string' },
  }));
  const parameters = [...pathParams, ...(op.query ?? []).map(parameter('query')), ...(op.headers ?? []).map(parameter('header'))];
  const body = op.body;
  const requestBody =
    body === undefined
      ? undefined
      : !('~run' in body)
        ? {
            required: true,
            description: body.description,
            content: Object.fromEntries(Object.entries(body.content).map(([type, text]) => [type, { schema: { type: 'string', description: text } }])),
          }
        : { required: true, content: { 'application/json': { schema: ref(body as v.GenericSchema, where) } } };
  const { status, description, schema } = op.success;
  const success = schema ? { description, content: { 'application/json': { schema: ref(schema, where) } } } : { description };
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    ...(op.description && { description: op.description }),
    security: securityOf(access),
    ...(parameters.length > 0 && { parameters }),
    ...(requestBody && { requestBody }),
    responses: { [String(status)]: success, ...errorsOf(method, path, op, access) },
  };
}

const scopeList = Object.entries(SCOPES).map(([name, text]) => `- \`${name}\`: ${text}`).join('\n');

const SECURITY_SCHEMES: Record<Security, JsonObject> = {
  apiToken: {
    type: 'http',
    scheme: 'bearer',
    description: `An organization's API token, eex_… (POST /tokens issues more). Each operation lists the one scope it needs in its \`security\` (none: any valid token); a token without it gets 403 FORBIDDEN naming the scope. The scopes:\n${scopeList}`,
  },
  adminToken: { type: 'http', scheme: 'bearer', description: "The operator's ADMIN_TOKEN (16+ characters); admin routes only" },
  webhookSignature: {
    type: 'apiKey',
    in: 'header',
    name: SIGNATURE_HEADER,
    description: `HMAC-SHA256 with the dataflow's webhook secret over "<timestamp>.<raw body>", or "<timestamp>.<Idempotency-Key>.<raw body>" when that header is sent; hex or base64. ${TIMESTAMP_HEADER} carries the timestamp (Unix seconds, 5-minute window); a delivery is accepted once.`,
  },
};

const TAGS = [
  { name: 'Destinations', description: 'S3 buckets to export into: connection tests and least-privilege IAM policies' },
  { name: 'Sources', description: 'Snapshot sources: Parquet, NDJSON or CSV files in S3 or R2 that rule audiences read where they are' },
  { name: 'Dataflows', description: 'What to export where, when and how; export now' },
  { name: 'Audiences', description: 'Rule audiences and uploaded member lists' },
  { name: 'Profiles', description: 'Ingest customer profiles' },
  { name: 'Datasets', description: 'Datasets with a declared column schema, and their records' },
  { name: 'Runs', description: 'Each export run: status, rows, skipped rows, files, error' },
  { name: 'Tokens', description: "The organization's API tokens and their scopes: issue, list, rotate, revoke" },
  { name: 'Webhooks', description: 'Signed triggers of a dataflow' },
  { name: 'Admin', description: 'Operator bootstrap with ADMIN_TOKEN' },
  { name: 'Meta', description: 'This document, and the plugins this host offers' },
];

/** Builds the document from the app's routes (`app.routes`). */
export function openApiDocument(routes: readonly RouteEntry[]): JsonObject {
  components ??= convertComponents();
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const entry of apiOperations(routes).operations) {
    paths[entry.path] ??= {};
    paths[entry.path]![entry.method.toLowerCase()] = operationObject(entry);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'edge-export API',
      version: '1',
      description: 'Export audiences and datasets into S3 on a schedule, a webhook or on demand.',
    },
    servers: [{ url: API_BASE }],
    tags: TAGS,
    paths,
    components: { schemas: components, securitySchemes: SECURITY_SCHEMES },
  };
}
