/** /v1/destinations: CRUD; secrets sealed on the way in and masked on the way out. */
import { Hono } from 'hono';
import * as v from 'valibot';
import { ConfigError } from '../../core/errors.ts';
import { testConnection } from '../../plugins/sink/s3/probe.ts';
import { toConfigIssues } from '../../core/validate.ts';
import { builtinPlugins } from '../../plugins/index.ts';
import {
  type StoredDestination,
  openDestination,
  presentDestination,
  sealDestination,
} from '../destination-secrets.ts';
import { ApiError, notFound } from '../errors.ts';
import { type AppDeps, type AppEnv, body, pageQuery } from '../http.ts';
import { destinationClient, destinationPolicies } from '../s3-access.ts';
import { type DestinationInput, destinationSchema } from '../schemas.ts';
import { newId } from '../store/db.ts';
import {
  type DestinationRow,
  deleteDestination,
  getDestination,
  insertDestination,
  page,
  updateDestination,
} from '../store/resources.ts';

/** Routes of /v1/destinations. */
export function destinationRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .post('/', async (c) => {
      const input = checkFormatOptions(await body(c, destinationSchema('create'), 'destination'));
      const id = newId('dst');
      const stored = await sealDestination(c.env, id, input);
      const row = {
        id,
        org_id: c.get('orgId'),
        name: input.name,
        config: JSON.stringify(stored),
        created_at: deps.now().toISOString(),
      };
      await insertDestination(c.env.DB, row);
      return c.json(presentDestination({ ...row, updated_at: row.created_at }), 201);
    })
    .get('/', async (c) => {
      const result = await page<DestinationRow>(c.env.DB, 'destinations', c.get('orgId'), pageQuery(c));
      return c.json({
        items: result.items.map(presentDestination),
        ...(result.cursor && { cursor: result.cursor }),
      });
    })
    .get('/:id', async (c) => {
      const row = await getDestination(c.env.DB, c.get('orgId'), c.req.param('id'));
      if (!row) throw notFound('destination', c.req.param('id'));
      return c.json(presentDestination(row));
    })
    .put('/:id', async (c) => {
      const { DB } = c.env;
      const orgId = c.get('orgId');
      const id = c.req.param('id');
      const existing = await getDestination(DB, orgId, id);
      if (!existing) throw notFound('destination', id);
      const input = checkFormatOptions(await body(c, destinationSchema('update'), 'destination'));
      const stored = await sealDestination(
        c.env,
        id,
        input,
        JSON.parse(existing.config) as StoredDestination,
      );
      await updateDestination(DB, orgId, id, input.name, JSON.stringify(stored), deps.now());
      return c.json(presentDestination((await getDestination(DB, orgId, id))!));
    })
    .post('/:id/test', async (c) => {
      const row = await getDestination(c.env.DB, c.get('orgId'), c.req.param('id'));
      if (!row) throw notFound('destination', c.req.param('id'));
      const destination = await openDestination(c.env, row);
      const now = deps.now();
      const ctx = {
        now: deps.now,
        uuid: () => crypto.randomUUID(),
        fetch: deps.fetch,
        runId: newId('probe'),
        scheduledTime: now,
      };
      const client = destinationClient(c.env, destination, ctx);
      const results = await testConnection({ client, folderPath: destination.folderPath });
      return c.json({ ok: results.every((r) => r.ok), testedAt: now.toISOString(), results });
    })
    .get('/:id/policies', async (c) => {
      const row = await getDestination(c.env.DB, c.get('orgId'), c.req.param('id'));
      if (!row) throw notFound('destination', c.req.param('id'));
      return c.json(destinationPolicies(c.env, JSON.parse(row.config) as StoredDestination));
    })
    .delete('/:id', async (c) => {
      const outcome = await deleteDestination(c.env.DB, c.get('orgId'), c.req.param('id'));
      if (outcome === 'missing') throw notFound('destination', c.req.param('id'));
      if (outcome === 'in-use')
        throw new ApiError(
          409,
          'CONFLICT',
          'The destination is used by a dataflow; delete or change the dataflow first',
        );
      return c.body(null, 204);
    });
}

/** Validates `formatOptions` with the chosen format plugin's own schema, so errors name the option. */
function checkFormatOptions(input: DestinationInput): DestinationInput {
  const plugin = builtinPlugins.find((p) => p.name === `format/${input.fileType}`);
  if (!plugin) return input;
  const result = v.safeParse(plugin.options, input.formatOptions);
  if (!result.success) throw new ConfigError(toConfigIssues(result.issues, 'formatOptions'), 'destination');
  return input;
}
