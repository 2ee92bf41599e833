/** /v1/audiences: rule audiences (the rule text is parsed before it is stored) and upload audiences. */
import { Hono } from 'hono';
import { ConfigError } from '../../core/errors.ts';
import { RuleSyntaxError, compileRule } from '../../core/rules/index.ts';
import { notFound } from '../errors.ts';
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

/** Routes of /v1/audiences. */
export function audienceRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .post('/', async (c) => {
      const input = checkRule(await body(c, audienceSchema, 'audience'));
      const id = await insertAudience(c.env.DB, c.get('orgId'), input, deps.now());
      return c.json(present((await getAudience(c.env.DB, c.get('orgId'), id))!), 201);
    })
    .get('/', async (c) => {
      const result = await page<AudienceRow>(c.env.DB, 'audiences', c.get('orgId'), pageQuery(c));
      return c.json({ items: result.items.map(present), ...(result.cursor && { cursor: result.cursor }) });
    })
    .get('/:id', async (c) => {
      const row = await getAudience(c.env.DB, c.get('orgId'), c.req.param('id'));
      if (!row) throw notFound('audience', c.req.param('id'));
      return c.json(present(row));
    })
    .put('/:id', async (c) => {
      const input = checkRule(await body(c, audienceSchema, 'audience'));
      if (!(await updateAudience(c.env.DB, c.get('orgId'), c.req.param('id'), input, deps.now())))
        throw notFound('audience', c.req.param('id'));
      return c.json(present((await getAudience(c.env.DB, c.get('orgId'), c.req.param('id')))!));
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
    throw new ConfigError(
      [{ path: 'rule', message: error.message, expected: error.expected, received: error.found }],
      'audience',
    );
  }
  return input;
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
