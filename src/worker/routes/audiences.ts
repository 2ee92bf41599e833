/** /v1/audiences: rule audiences (the rule text is parsed before it is stored) and upload audiences. */
import { Hono } from 'hono';
import type { Audience } from '../../core/data/model.ts';
import type { DataStore } from '../../core/data/store.ts';
import { importUpload } from '../../core/data/upload.ts';
import { ConfigError } from '../../core/errors.ts';
import { quote } from '../../core/validate.ts';
import { RuleSyntaxError, compileRule } from '../../core/rules/index.ts';
import { ruleNames } from '../../core/data/attributes.ts';
import { ApiError, notFound } from '../errors.ts';
import { nameWarnings } from '../warnings.ts';
import { type AppDeps, type AppEnv, body, pageQuery } from '../http.ts';
import { type AudienceInput, audienceSchema } from '../schemas.ts';
import {
  type AudienceRow,
  deleteAudience,
  getAudience,
  insertAudience,
  page,
  updateAudience,
} from '../store/resources.ts';
import { recordEvaluation } from '../store/evaluations.ts';
import { d1UploadWriter, uploadMemberCount } from '../store/writes.ts';

/** Routes of /v1/audiences. */
export function audienceRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .post('/', async (c) => {
      const input = checkRule(await body(c, audienceSchema, 'audience'));
      const id = await insertAudience(c.env.DB, c.get('orgId'), input, deps.now());
      const warnings = await ruleWarnings(c.env.DB, c.get('orgId'), input);
      return c.json({ ...present((await getAudience(c.env.DB, c.get('orgId'), id))!), ...warnings }, 201);
    })
    .get('/', async (c) => {
      const result = await page<AudienceRow>(c.env.DB, 'audiences', c.get('orgId'), pageQuery(c));
      return c.json({ items: result.items.map(present), ...(result.cursor && { cursor: result.cursor }) });
    })
    .get('/:id', async (c) => {
      const row = await getAudience(c.env.DB, c.get('orgId'), c.req.param('id'));
      if (!row) throw notFound('audience', c.req.param('id'));
      const members =
        row.kind === 'upload' ? await uploadMemberCount(c.env.DB, row.org_id, row.id) : undefined;
      return c.json({ ...present(row), ...(members !== undefined && { members }) });
    })
    .put('/:id', async (c) => {
      const input = checkRule(await body(c, audienceSchema, 'audience'));
      if (!(await updateAudience(c.env.DB, c.get('orgId'), c.req.param('id'), input, deps.now())))
        throw notFound('audience', c.req.param('id'));
      const warnings = await ruleWarnings(c.env.DB, c.get('orgId'), input);
      return c.json({ ...present((await getAudience(c.env.DB, c.get('orgId'), c.req.param('id')))!), ...warnings });
    })
    .post('/:id/members', async (c) => {
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
    .post('/:id/evaluate', async (c) => {
      const orgId = c.get('orgId');
      const row = await getAudience(c.env.DB, orgId, c.req.param('id'));
      if (!row) throw notFound('audience', c.req.param('id'));
      // Recorded now; the next cron tick closes it and runs the "afterEvaluation" dataflows once.
      const evaluationId = await recordEvaluation(c.env.DB, orgId, row.id, 'api', deps.now());
      return c.json({ evaluationId, audienceId: row.id, evaluatedAt: deps.now().toISOString() }, 202);
    })
    .delete('/:id', async (c) => {
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

/** `{warnings}` for the attributes a rule names that no profile of the organization has (see nameWarnings). */
function ruleWarnings(db: AppEnv['Bindings']['DB'], orgId: string, input: AudienceInput) {
  return nameWarnings(db, orgId, input.kind === 'rule' ? ruleNames(input.rule, 'rule') : []);
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
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
