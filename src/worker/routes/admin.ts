/**
 * /v1/admin: operator bootstrap (ADMIN_TOKEN) — create an organization and its first API token, and
 * give an organization shards for its profiles (docs/SCALE.md) before it has any.
 */
import { Hono } from 'hono';
import { describe } from '../api-spec.ts';
import * as views from '../api-views.ts';
import { requireAdmin } from '../auth.ts';
import { ApiError, notFound } from '../errors.ts';
import { type AppDeps, type AppEnv, body } from '../http.ts';
import { organizationSchema, organizationShardsSchema } from '../schemas.ts';
import { countShardedProfiles, shardedOrg } from '../shards/profiles.ts';
import { initialLayout, type ShardLayout } from '../shards/types.ts';
import type { Env } from '../env.ts';
import { createOrganization, getOrganization } from '../store/orgs.ts';
import { getShardLayout, hasD1Profiles, setShardLayout } from '../store/shards.ts';

/** Routes of /v1/admin. */
export function adminRoutes(deps: AppDeps) {
  return new Hono<AppEnv>()
    .use('*', requireAdmin)
    .post(
      '/organizations',
      describe({
        operationId: 'createOrganization',
        tag: 'Admin',
        summary: 'Create an organization and its first API token (with `shards`, its profiles are kept in that many shards)',
        body: organizationSchema,
        success: { status: 201, description: 'The organization and its token (shown only here)', schema: views.createdOrganization },
      }),
      async (c) => {
        const input = await body(c, organizationSchema, 'organization');
        // The token is in this response only; the database keeps its hash.
        const created = await createOrganization(c.env.DB, input.name, deps.now(), input.sandbox);
        if (input.shards === undefined) return c.json(created, 201);
        await setShardLayout(c.env.DB, created.id, initialLayout(input.shards), deps.now());
        return c.json({ ...created, shards: input.shards }, 201);
      },
    )
    .get(
      '/organizations/:id/shards',
      describe({
        operationId: 'getOrganizationShards',
        tag: 'Admin',
        summary: "An organization's shard layout (null: its profiles are in D1, the default)",
        success: { status: 200, description: 'The layout', schema: views.organizationShards },
      }),
      async (c) => {
        const orgId = await mustExist(c.env, c.req.param('id'));
        return c.json(present(orgId, await getShardLayout(c.env.DB, orgId)));
      },
    )
    .put(
      '/organizations/:id/shards',
      describe({
        operationId: 'setOrganizationShards',
        tag: 'Admin',
        summary: 'Keep an organization\'s profiles in N equal shards; only while it has no profile (growing later is resharding)',
        body: organizationShardsSchema,
        success: { status: 200, description: 'The new layout (generation bumped)', schema: views.organizationShards },
        errors: { 409: 'The organization already has profiles: its shards can only grow by resharding' },
      }),
      async (c) => {
        const orgId = await mustExist(c.env, c.req.param('id'));
        const input = await body(c, organizationShardsSchema, 'organization shards');
        const old = await getShardLayout(c.env.DB, orgId);
        if (await hasProfiles(c.env, orgId)) {
          throw new ApiError(
            409,
            'CONFLICT',
            `shards: organization "${orgId}" already has profiles; its shards are set before the first profile is stored, and grow afterwards only by resharding (docs/SCALE.md, "Resharding")`,
            { field: 'shards' },
          );
        }
        const layout: ShardLayout = { ...initialLayout(input.shards), generation: (old?.generation ?? 0) + 1 };
        await setShardLayout(c.env.DB, orgId, layout, deps.now());
        return c.json(present(orgId, layout));
      },
    );
}

async function mustExist(env: Env, orgId: string): Promise<string> {
  if (!(await getOrganization(env.DB, orgId))) throw notFound('organization', orgId);
  return orgId;
}

/** Whether the organization has a profile: in D1, or in the shards of its current layout. */
async function hasProfiles(env: Env, orgId: string): Promise<boolean> {
  if (await hasD1Profiles(env.DB, orgId)) return true;
  const org = await shardedOrg(env, orgId);
  return org !== undefined && (await countShardedProfiles(org)) > 0;
}

function present(orgId: string, layout: ShardLayout | undefined) {
  return { organizationId: orgId, layout: layout ?? null };
}
