/** /v1/dataflows: CRUD, plus "export now" (POST /:id/run) which enqueues a run. */
import { Hono } from 'hono';
import { ConfigError, type ConfigIssue } from '../../core/errors.ts';
import { describe, PAGE_QUERY } from '../api-spec.ts';
import * as views from '../api-views.ts';
import { toBase64Url } from '../../core/security/encoding.ts';
import { sealSecret } from '../../core/security/secrets.ts';
import { endpointIssues } from '../../core/security/ssrf.ts';
import { quote } from '../../core/validate.ts';
import { IDEMPOTENCY_KEY } from '../../core/security/webhook.ts';
import { endpointPolicy, type Env } from '../env.ts';
import { mappingNames } from '../../core/data/attributes.ts';
import { compileMapping } from '../../core/data/mapping.ts';
import { partitionColumnIssues } from '../../core/partition.ts';
import { ApiError, notFound } from '../errors.ts';
import { nameWarnings } from '../warnings.ts';
import { type AppDeps, type AppEnv, body, pageQuery } from '../http.ts';
import { presentRun } from './runs.ts';
import { type DataflowInput, dataflowSchema } from '../schemas.ts';
import { exportService } from '../../service/export-service.ts';
import { datasetFolder } from '../../service/subjects.ts';
import type { StoredDestination } from '../destination-secrets.ts';
import { definitionOf } from '../execute.ts';
import { first, json, newId } from '../store/db.ts';
import { createRunOnce } from '../store/idempotency.ts';
import {
  type DataflowColumns,
  type DataflowRow,
  existingAudienceIds,
  exportModeColumns,
  exportModeOf,
  deleteDataflow,
  getDataflow,
  getDestination,
  insertDataflow,
  page,
  setAlertSecret,
  updateDataflow,
} from '../store/resources.ts';
import { getRun, insertApiRun } from '../store/runs.ts';
import { audienceSourceIssues } from '../store/sources.ts';
import { DEFAULT_ALERT_EVENTS } from '../store/alerts.ts';

/** Routes of /v1/dataflows. */
export function dataflowRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .post(
      '/',
      describe({
        operationId: 'createDataflow',
        tag: 'Dataflows',
        summary: 'Create a dataflow: audiences or a dataset, to a destination, on a schedule or on demand',
        body: dataflowSchema,
        success: { status: 201, description: 'The dataflow, with its webhook secret (shown only here) and warnings about its mapping if any', schema: views.createdDataflowView },
      }),
      async (c) => {
      const orgId = c.get('orgId');
      const input = await body(c, dataflowSchema, 'dataflow');
      const cols = await columns(c.env, deps, orgId, input);
      const webhookSecret = `whsec_${toBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
      const id = newId('dfl');
      const sealed = await sealSecret(c.env.SECRETS_KEY, webhookSecret, webhookSecretContext(id));
      await insertDataflow(c.env.DB, orgId, id, cols, sealed, deps.now());
      await storeAlertSecret(c.env, orgId, id, input.alertSecret);
      const warnings = await mappingWarnings(c.env.DB, orgId, input);
      // The webhook secret is shown once, here; afterwards only its existence is.
      return c.json({ ...present((await getDataflow(c.env.DB, orgId, id))!), webhookSecret, ...warnings }, 201);
    })
    .get(
      '/',
      describe({
        operationId: 'listDataflows',
        tag: 'Dataflows',
        summary: 'List dataflows',
        query: PAGE_QUERY,
        success: { status: 200, description: 'A page of dataflows', schema: views.dataflowPage },
      }),
      async (c) => {
      const result = await page<DataflowRow>(c.env.DB, 'dataflows', c.get('orgId'), pageQuery(c));
      return c.json({ items: result.items.map(present), ...(result.cursor && { cursor: result.cursor }) });
    })
    .get(
      '/:id',
      describe({
        operationId: 'getDataflow',
        tag: 'Dataflows',
        summary: 'Read a dataflow',
        success: { status: 200, description: 'The dataflow', schema: views.dataflowView },
      }),
      async (c) => c.json(present(await mustGet(c.env, c.get('orgId'), c.req.param('id')))))
    .put(
      '/:id',
      describe({
        operationId: 'updateDataflow',
        tag: 'Dataflows',
        summary: 'Replace a dataflow (alertSecret omitted keeps it, null clears it)',
        body: dataflowSchema,
        success: { status: 200, description: 'The dataflow, with warnings about its mapping if any', schema: views.savedDataflowView },
      }),
      async (c) => {
      const orgId = c.get('orgId');
      const id = c.req.param('id');
      await mustGet(c.env, orgId, id);
      const input = await body(c, dataflowSchema, 'dataflow');
      await updateDataflow(c.env.DB, orgId, id, await columns(c.env, deps, orgId, input), deps.now());
      await storeAlertSecret(c.env, orgId, id, input.alertSecret);
      return c.json({ ...present(await mustGet(c.env, orgId, id)), ...(await mappingWarnings(c.env.DB, orgId, input)) });
    })
    .delete(
      '/:id',
      describe({
        operationId: 'deleteDataflow',
        tag: 'Dataflows',
        summary: 'Delete a dataflow',
        success: { status: 204, description: 'Deleted' },
      }),
      async (c) => {
      if (!(await deleteDataflow(c.env.DB, c.get('orgId'), c.req.param('id'))))
        throw notFound('dataflow', c.req.param('id'));
      return c.body(null, 204);
    })
    .post(
      '/:id/run',
      describe({
        operationId: 'exportNow',
        tag: 'Dataflows',
        summary: 'Export now: enqueue a run',
        description:
          "A dataflow runs one run at a time: a new run waits while another is in flight. Without an Idempotency-Key, a call made while one of the dataflow's manual runs is still waiting to start answers with that run.",
        headers: [{ name: 'Idempotency-Key', description: '1–255 printable ASCII characters: the run is created once per key' }],
        success: { status: 202, description: 'The queued run (a new one, or the manual run still waiting to start)', schema: views.runView },
        errors: { 400: 'Malformed Idempotency-Key', 409: 'This Idempotency-Key was already used (details.runId names its run)' },
      }),
      async (c) => {
      const orgId = c.get('orgId');
      const flow = await mustGet(c.env, orgId, c.req.param('id'));
      const now = deps.now();
      const header = c.req.header('Idempotency-Key');
      let runId: string | undefined;
      if (header !== undefined) {
        if (!IDEMPOTENCY_KEY.test(header))
          throw new ApiError(
            400,
            'BAD_REQUEST',
            'Idempotency-Key: expected 1–255 printable ASCII characters',
          );
        const result = await createRunOnce(
          c.env.DB,
          { orgId, dataflowId: flow.id, trigger: 'api', scheduledTime: now },
          `api:${flow.id}`,
          `key:${header}`,
          now,
        );
        if (!result.created)
          throw new ApiError(409, 'REPLAYED', 'This Idempotency-Key was already used', {
            runId: result.runId,
          });
        runId = result.runId;
      } else {
        // An export-now while one is still waiting to start is that one (concurrent clicks: one run).
        const created = await insertApiRun(c.env.DB, { orgId, dataflowId: flow.id, scheduledTime: now }, now);
        runId = created.id;
        if (!created.created) return c.json(presentRun((await getRun(c.env.DB, orgId, runId))!), 202);
      }
      await c.env.EXPORTS.send({ runId: runId!, orgId });
      return c.json(presentRun((await getRun(c.env.DB, orgId, runId!))!), 202);
    });
}

/** `{warnings}` for mapped attributes and namespaces no profile of the organization has (audience dataflows). */
function mappingWarnings(db: Env['DB'], orgId: string, input: DataflowInput) {
  return nameWarnings(db, orgId, input.mapping && input.datasetId === undefined ? mappingNames(input.mapping, 'mapping') : []);
}

async function mustGet(env: Env, orgId: string, id: string): Promise<DataflowRow> {
  const row = await getDataflow(env.DB, orgId, id);
  if (!row) throw notFound('dataflow', id);
  return row;
}

/**
 * Checks references (in this organization only), the alert URL, and the naming and layout against
 * the destination, and maps input to columns.
 */
async function columns(env: Env, deps: AppDeps, orgId: string, input: DataflowInput): Promise<DataflowColumns> {
  const issues: ConfigIssue[] = [];
  if (!(await getDestination(env.DB, orgId, input.destinationId))) {
    issues.push({
      path: 'destinationId',
      message: 'destinationId: no such destination',
      received: quote(input.destinationId),
    });
  }
  const audienceIds = [...new Set(input.audienceIds ?? [])];
  const existing = await existingAudienceIds(env.DB, orgId, audienceIds);
  (input.audienceIds ?? []).forEach((id, i) => {
    if (!existing.has(id)) issues.push({ path: `audienceIds[${i}]`, message: `no such audience in this organization, received ${quote(id)}`, expected: 'the id of an audience (GET /v1/audiences)', received: quote(id) });
  });
  issues.push(...audienceSettingIssues(input));
  issues.push(...(await audienceSourceIssues(env.DB, orgId, audienceIds)));
  if (
    input.datasetId !== undefined &&
    !(await first(env.DB, 'SELECT id FROM datasets WHERE org_id = ? AND id = ?', orgId, input.datasetId))
  ) {
    issues.push({
      path: 'datasetId',
      message: 'datasetId: no such dataset',
      received: quote(input.datasetId),
    });
  }
  if (input.schedule?.time === 'afterEvaluation' && input.datasetId !== undefined) {
    issues.push({
      path: 'schedule.time',
      message: 'schedule.time: "afterEvaluation" follows audience evaluations; a dataset dataflow needs a time of day',
      expected: 'HH:MM',
      received: '"afterEvaluation"',
    });
  }
  const destination = await getDestination(env.DB, orgId, input.destinationId);
  if (destination) {
    // The file naming and, for a dataset, its exportTime= folder under the destination's folder,
    // checked as the export service will run them.
    const stored = JSON.parse(destination.config) as StoredDestination;
    const definition = await definitionOf(env, destination, stored);
    const service = exportService(deps.platform(env));
    const folderPath = input.datasetId !== undefined ? datasetFolder(stored.folderPath) : stored.folderPath;
    const output = { ...definition.output, folderPath, fileName: input.naming, ...(input.partitionBy && { partitionBy: input.partitionBy }) };
    const found = await service.check({ ...definition, output });
    for (const issue of found) {
      if (issue.path.startsWith('naming') || issue.path.startsWith('partitionBy')) issues.push(issue);
      else if (issue.path === 'folderPath' && input.datasetId !== undefined)
        issues.push({ ...issue, path: 'datasetId', message: `datasetId: the dataset layout <folder>/<datasetId>/exportTime=… does not fit the destination's folder (${issue.message})` });
    }
    // Each audience's own naming, checked the same way (once per distinct naming), reported at audiences[i].naming.
    const checked = new Map<string, ConfigIssue[]>();
    for (const [i, a] of (input.audiences ?? []).entries()) {
      if (!a.naming) continue;
      const key = JSON.stringify(a.naming);
      if (!checked.has(key)) checked.set(key, await service.check({ ...definition, output: { ...definition.output, fileName: a.naming } }));
      for (const issue of checked.get(key)!) if (issue.path.startsWith('naming')) issues.push({ ...issue, path: `audiences[${i}].${issue.path}` });
    }
  }
  if (input.partitionBy && input.mapping) {
    const names = compileMapping(input.mapping).schema.map((c) => c.name);
    // Incremental files carry the membership status column when the mapping lacks it.
    if (input.exportMode === 'incremental') names.push('segmentMembership_status');
    issues.push(...partitionColumnIssues(input.partitionBy.columns, [...new Set(names)], 'partitionBy'));
  }
  if (input.alertWebhook !== undefined) {
    // The alert URL's name is resolved where the host can, every address checked (SSRF).
    const platform = deps.platform(env);
    issues.push(...(await endpointIssues(input.alertWebhook, 'alertWebhook', endpointPolicy(env), platform.resolveHost && ((name) => platform.resolveHost!(name)))));
  }
  if (issues.length > 0) throw new ConfigError(issues, 'dataflow');
  return {
    name: input.name,
    destination_id: input.destinationId,
    audience_ids: JSON.stringify(audienceIds),
    audience_settings: JSON.stringify(input.audiences ?? []),
    dataset_id: input.datasetId ?? null,
    mapping: JSON.stringify(input.mapping ?? {}),
    schedule: input.schedule ? JSON.stringify(input.schedule) : null,
    naming: JSON.stringify(input.naming),
    partition_by: input.partitionBy ? JSON.stringify(input.partitionBy) : null,
    ...exportModeColumns(input.exportMode),
    alert_webhook: input.alertWebhook ?? null,
    skipped_rate_threshold: input.skippedRateThreshold ?? null,
    alert_events: input.alertEvents ? JSON.stringify([...new Set(input.alertEvents)]) : null,
    alert_format: input.alertFormat,
    late_after_minutes: input.lateAfterMinutes ?? null,
    enabled: input.enabled ? 1 : 0,
  };
}

/** Per-audience settings name audiences of the dataflow, once each; "afterEvaluation" needs no dataset. */
function audienceSettingIssues(input: DataflowInput): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const listed = new Set(input.audienceIds ?? []);
  const seen = new Set<string>();
  for (const [i, a] of (input.audiences ?? []).entries()) {
    const path = `audiences[${i}].id`;
    if (!listed.has(a.id)) {
      issues.push({ path, message: `${path}: not one of audienceIds, received ${quote(a.id)}`, expected: 'an id listed in audienceIds', received: quote(a.id) });
    } else if (seen.has(a.id)) {
      issues.push({ path, message: `${path}: audience ${quote(a.id)} already has settings (audiences[${[...seen].indexOf(a.id)}])`, expected: 'each audience once', received: quote(a.id) });
    }
    seen.add(a.id);
  }
  return issues;
}

/** Seals and stores an alert secret; undefined keeps the stored one, null removes it. */
async function storeAlertSecret(
  env: Env,
  orgId: string,
  id: string,
  secret: string | null | undefined,
): Promise<void> {
  if (secret === undefined) return;
  const sealed = secret === null ? null : await sealSecret(env.SECRETS_KEY, secret, alertSecretContext(id));
  await setAlertSecret(env.DB, orgId, id, sealed);
}

/** Binds a dataflow's sealed alert secret to its id. */
export function alertSecretContext(dataflowId: string): string {
  return `${dataflowId}:alertSecret`;
}

/** Binds a dataflow's sealed webhook secret to its id. */
export function webhookSecretContext(dataflowId: string): string {
  return `${dataflowId}:webhookSecret`;
}

/** The API view of a dataflow; the webhook and alert secrets are never part of it. */
export function present(row: DataflowRow): Record<string, unknown> {
  const audienceIds = json<string[]>(row.audience_ids) ?? [];
  return {
    id: row.id,
    name: row.name,
    destinationId: row.destination_id,
    ...(audienceIds.length > 0 && { audienceIds }),
    ...(row.audience_settings !== '[]' && { audiences: json(row.audience_settings) }),
    ...(row.dataset_id !== null && { datasetId: row.dataset_id }),
    mapping: json(row.mapping),
    ...(row.schedule !== null && { schedule: json(row.schedule) }),
    naming: json(row.naming),
    ...(row.partition_by !== null && { partitionBy: json(row.partition_by) }),
    exportMode: exportModeOf(row),
    ...(row.alert_webhook !== null && { alertWebhook: row.alert_webhook }),
    alertSigned: row.alert_secret !== null,
    ...(row.skipped_rate_threshold !== null && { skippedRateThreshold: row.skipped_rate_threshold }),
    alertEvents: json<string[]>(row.alert_events) ?? [...DEFAULT_ALERT_EVENTS],
    alertFormat: row.alert_format ?? 'signed-json',
    ...(row.late_after_minutes !== null && { lateAfterMinutes: row.late_after_minutes }),
    enabled: row.enabled === 1,
    webhookUrl: `/v1/webhooks/${row.id}`,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
