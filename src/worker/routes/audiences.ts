/** /v1/audiences: rule audiences (the rule text is parsed before it is stored) and upload audiences. */
import { Hono } from 'hono';
import { compileMapping } from '../../core/data/mapping.ts';
import type { Audience } from '../../core/data/model.ts';
import type { DataStore } from '../../core/data/store.ts';
import { importUpload } from '../../core/data/upload.ts';
import { ConfigError } from '../../core/errors.ts';
import { describe, PAGE_QUERY } from '../api-spec.ts';
import * as views from '../api-views.ts';
import { quote } from '../../core/validate.ts';
import { RuleSyntaxError, compileRule } from '../../core/rules/index.ts';
import { ruleNames } from '../../core/data/attributes.ts';
import { ApiError, notFound } from '../errors.ts';
import { nameWarnings } from '../warnings.ts';
import { type AppDeps, type AppEnv, body, pageQuery } from '../http.ts';
import { type AudienceInput, audiencePreviewSchema, audienceSchema } from '../schemas.ts';
import {
  type AudienceRow,
  deleteAudience,
  getAudience,
  insertAudience,
  page,
  updateAudience,
} from '../store/resources.ts';
import { recordEvaluation } from '../store/evaluations.ts';
import { getSource } from '../store/sources.ts';
import { openSourceStore } from '../source-secrets.ts';
import { previewSnapshotAudience } from '../snapshot-preview.ts';
import { d1UploadWriter, uploadMemberCount } from '../store/writes.ts';
import { PREVIEW_MAX_PROFILES, previewAudience } from '../preview.ts';

/** Routes of /v1/audiences. */
export function audienceRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .post(
      '/',
      describe({
        operationId: 'createAudience',
        tag: 'Audiences',
        summary: 'Create a rule audience (its rule is parsed first) or an upload audience',
        body: audienceSchema,
        success: { status: 201, description: 'The audience, with warnings about its rule if any', schema: views.savedAudienceView },
      }),
      async (c) => {
      const input = await checkSource(c.env.DB, c.get('orgId'), checkRule(await body(c, audienceSchema, 'audience')));
      const id = await insertAudience(c.env.DB, c.get('orgId'), input, deps.now());
      const warnings = await ruleWarnings(c.env.DB, c.get('orgId'), input);
      return c.json({ ...present((await getAudience(c.env.DB, c.get('orgId'), id))!), ...warnings }, 201);
    })
    .get(
      '/',
      describe({
        operationId: 'listAudiences',
        tag: 'Audiences',
        summary: 'List audiences',
        query: PAGE_QUERY,
        success: { status: 200, description: 'A page of audiences', schema: views.audiencePage },
      }),
      async (c) => {
      const result = await page<AudienceRow>(c.env.DB, 'audiences', c.get('orgId'), pageQuery(c));
      return c.json({ items: result.items.map(present), ...(result.cursor && { cursor: result.cursor }) });
    })
    .get(
      '/:id',
      describe({
        operationId: 'getAudience',
        tag: 'Audiences',
        summary: 'Read an audience (upload audiences: with their member count)',
        success: { status: 200, description: 'The audience', schema: views.audienceView },
      }),
      async (c) => {
      const row = await getAudience(c.env.DB, c.get('orgId'), c.req.param('id'));
      if (!row) throw notFound('audience', c.req.param('id'));
      const members =
        row.kind === 'upload' ? await uploadMemberCount(c.env.DB, row.org_id, row.id) : undefined;
      return c.json({ ...present(row), ...(members !== undefined && { members }) });
    })
    .put(
      '/:id',
      describe({
        operationId: 'updateAudience',
        tag: 'Audiences',
        summary: 'Replace an audience',
        body: audienceSchema,
        success: { status: 200, description: 'The audience, with warnings about its rule if any', schema: views.savedAudienceView },
      }),
      async (c) => {
      const input = await checkSource(c.env.DB, c.get('orgId'), checkRule(await body(c, audienceSchema, 'audience')));
      if (!(await updateAudience(c.env.DB, c.get('orgId'), c.req.param('id'), input, deps.now())))
        throw notFound('audience', c.req.param('id'));
      const warnings = await ruleWarnings(c.env.DB, c.get('orgId'), input);
      return c.json({ ...present((await getAudience(c.env.DB, c.get('orgId'), c.req.param('id')))!), ...warnings });
    })
    .post(
      '/:id/members',
      describe({
        operationId: 'uploadAudienceMembers',
        tag: 'Audiences',
        summary: 'Replace the members of an upload audience, all-or-nothing',
        body: {
          description: 'The member list, streamed (at most 64 MiB)',
          content: { 'text/csv': 'A header row namespace,value[,column…], then one member per row' },
        },
        success: { status: 200, description: 'Imported: the upload is an evaluation of the audience', schema: views.uploadResult },
        errors: {
          400: 'Not text/csv, or invalid rows: nothing imported; details.errors lists each bad row',
          409: 'Not an upload audience',
        },
      }),
      async (c) => {
      const orgId = c.get('orgId');
      const row = await getAudience(c.env.DB, orgId, c.req.param('id'));
      if (!row) throw notFound('audience', c.req.param('id'));
      if (row.kind !== 'upload')
        throw new ApiError(409, 'CONFLICT', 'Only audiences of kind "upload" take uploaded members');
      const type = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim();
      if (type !== 'text/csv')
        throw new ApiError(400, 'BAD_REQUEST', `Content-Type: expected text/csv, received ${type ? quote(type) : '(none)'}`);
      const result = await importUpload(
        uploadStore(c.env.DB, orgId, row, deps.now()),
        row.id,
        c.req.raw.body ?? '',
      );
      if (!result.ok)
        throw new ApiError(
          400,
          'ROWS_INVALID',
          `${result.errorCount} row(s) are invalid; nothing was imported`,
          {
            errorCount: result.errorCount,
            errors: result.errors,
          },
        );
      // A new member list is an evaluation of this audience ("afterEvaluation" dataflows run).
      const evaluationId = await recordEvaluation(c.env.DB, orgId, row.id, 'upload', deps.now());
      return c.json({ imported: result.imported, rows: result.rows, evaluationId });
    })
    .post(
      '/:id/preview',
      describe({
        operationId: 'previewAudience',
        tag: 'Audiences',
        summary:
          'Audience size before activation: members now, and how many a draft mapping would skip (mandatory field missing, invalid value, no dedup key)',
        body: audiencePreviewSchema,
        success: {
          status: 200,
          description: `The counts; past ${PREVIEW_MAX_PROFILES.toLocaleString('en')} profiles (PREVIEW_MAX_PROFILES) they are scaled from the first ones counted (complete: false)`,
          schema: views.audiencePreview,
        },
        errors: {
          409: 'The audience reads a snapshot source too large to preview whose row count is unknown (NDJSON or CSV, or more than 20 objects)',
          422: "The audience's snapshot source could not be read: the error says what to fix (denied credentials, a missing file, a schema mismatch)",
        },
      }),
      async (c) => {
      const orgId = c.get('orgId');
      const row = await getAudience(c.env.DB, orgId, c.req.param('id'));
      if (!row) throw notFound('audience', c.req.param('id'));
      const input = await body(c, audiencePreviewSchema, 'audience preview');
      const audience: Audience =
        row.kind === 'rule'
          ? { id: row.id, name: row.name, kind: 'rule', rule: row.rule ?? '' }
          : { id: row.id, name: row.name, kind: 'upload' };
      const mapping = input.mapping && compileMapping(input.mapping);
      const max = Number(c.env.PREVIEW_MAX_PROFILES);
      const limit = Number.isInteger(max) && max > 0 ? max : undefined;
      if (row.source_id !== null) {
        // A snapshot audience: its source's first rows, opened as a run opens them (a failure says what to fix).
        const source = (await getSource(c.env.DB, orgId, row.source_id))!;
        const opened = await openSourceStore(c.env, source, deps.platform(c.env));
        const target = { id: row.id, rule: row.rule ?? '', sourceId: row.source_id };
        return c.json(await previewSnapshotAudience(opened, target, mapping, deps.now(), limit ?? PREVIEW_MAX_PROFILES));
      }
      return c.json(await previewAudience(c.env, orgId, audience, mapping, deps.now(), limit));
    })
    .post(
      '/:id/evaluate',
      describe({
        operationId: 'evaluateAudience',
        tag: 'Audiences',
        summary: 'Record an evaluation of the audience: "afterEvaluation" dataflows run once at the next cron tick',
        success: { status: 202, description: 'The evaluation, recorded', schema: views.evaluation },
      }),
      async (c) => {
      const orgId = c.get('orgId');
      const row = await getAudience(c.env.DB, orgId, c.req.param('id'));
      if (!row) throw notFound('audience', c.req.param('id'));
      // Recorded now; the next cron tick closes it and runs the "afterEvaluation" dataflows once.
      const evaluationId = await recordEvaluation(c.env.DB, orgId, row.id, 'api', deps.now());
      return c.json({ evaluationId, audienceId: row.id, evaluatedAt: deps.now().toISOString() }, 202);
    })
    .delete(
      '/:id',
      describe({
        operationId: 'deleteAudience',
        tag: 'Audiences',
        summary: 'Delete an audience',
        success: { status: 204, description: 'Deleted' },
      }),
      async (c) => {
      if (!(await deleteAudience(c.env.DB, c.get('orgId'), c.req.param('id'))))
        throw notFound('audience', c.req.param('id'));
      return c.body(null, 204);
    });
}

/** Refuses a rule the engine cannot parse, pointing at the line and column. */
function checkRule(input: AudienceInput): AudienceInput {
  if (input.kind !== 'rule') return input;
  try {
    compileRule(input.rule);
  } catch (error) {
    if (!(error instanceof RuleSyntaxError)) throw error;
    // Where and what, without the excerpt of the rule's text: an error body never repeats more than a
    // short piece of what was sent (the found token is quoted only when short, see withoutEcho).
    const message = `Rule error at line ${error.line}, column ${error.column}: expected ${error.expected}, found ${error.found}`;
    throw new ConfigError([{ path: 'rule', message, expected: error.expected, received: error.found }], 'audience');
  }
  return input;
}

/** Refuses a `sourceId` that names no source of the organization. */
async function checkSource(db: AppEnv['Bindings']['DB'], orgId: string, input: AudienceInput): Promise<AudienceInput> {
  if (input.kind !== 'rule' || input.sourceId === undefined || (await getSource(db, orgId, input.sourceId))) return input;
  const received = quote(input.sourceId);
  const message = `sourceId: no such source in this organization, received ${received}`;
  throw new ConfigError([{ path: 'sourceId', message, expected: 'the id of a source (GET /v1/sources)', received }], 'audience');
}

/**
 * `{warnings}` for the attributes a rule names that no profile of the organization has (see
 * nameWarnings). A snapshot audience's profiles are not in D1: its rule is not checked against them.
 */
function ruleWarnings(db: AppEnv['Bindings']['DB'], orgId: string, input: AudienceInput) {
  const sourced = input.kind === 'rule' && input.sourceId !== undefined;
  return nameWarnings(db, orgId, input.kind === 'rule' && !sourced ? ruleNames(input.rule, 'rule') : []);
}

/** The two store operations an upload needs, over D1 (importUpload reads nothing else). */
function uploadStore(db: AppEnv['Bindings']['DB'], orgId: string, row: AudienceRow, now: Date): DataStore {
  const audience: Audience = { id: row.id, name: row.name, kind: 'upload' };
  const store: Pick<DataStore, 'getAudience' | 'writeUploadMembers'> = {
    getAudience: async (id) => (id === row.id ? audience : undefined),
    writeUploadMembers: async (id) => d1UploadWriter(db, orgId, id, now),
  };
  return store as DataStore;
}

function present(row: AudienceRow): Record<string, unknown> {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    ...(row.rule !== null && { rule: row.rule }),
    ...(row.source_id && { sourceId: row.source_id }),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
