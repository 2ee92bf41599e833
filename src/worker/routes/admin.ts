/**
 * /v1/admin: operator bootstrap (ADMIN_TOKEN) — create an organization and its first API token, and
 * give an organization shards for its profiles (docs/SCALE.md) before it has any.
 */
import { Hono } from 'hono';
import { describe } from '../api-spec.ts';
import * as views from '../api-views.ts';
import { requireAdmin } from '../auth.ts';
import { notFound } from '../errors.ts';
import { assertNotResharding, growShards, reshardView } from '../reshard.ts';
import { getReshard } from '../store/reshards.ts';
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
        return c.json(await present(c.env, orgId, await getShardLayout(c.env.DB, orgId)));
      },
    )
    .put(
      '/organizations/:id/shards',
      describe({
        operationId: 'setOrganizationShards',
        tag: 'Admin',
        summary: "Set an organization's shard count: N equal shards before its first profile, afterwards a growth to N shards online (resharding)",
        description:
          'An organization with profiles (in shards, or in D1: the single-database layout) grows by resharding (docs/SCALE.md): the answer shows the layout with its `next` owners and `resharding.state` "copying"; the queue copies the moved buckets, flips the layout (generation + 1) and cleans up the old owners. GET shows its progress.',
        body: organizationShardsSchema,
        success: { status: 200, description: 'The new layout (generation bumped), or the resharding started', schema: views.organizationShards },
        errors: {
          400: '`shards` does not grow the organization (a resharding only adds shards)',
          409: 'A resharding of the organization is still copying or cleaning up (naming `shards`)',
        },
      }),
      async (c) => {
        const orgId = await mustExist(c.env, c.req.param('id'));
        const input = await body(c, organizationShardsSchema, 'organization shards');
        await assertNotResharding(c.env.DB, orgId);
        const old = await getShardLayout(c.env.DB, orgId);
        if (await hasProfiles(c.env, orgId)) {
          // Profiles in shards or in D1: the organization grows online (docs/SCALE.md, "Resharding").
          await growShards(c.env, orgId, input.shards, deps.now());
          return c.json(await present(c.env, orgId, await getShardLayout(c.env.DB, orgId)));
        }
        const layout: ShardLayout = { ...initialLayout(input.shards), generation: (old?.generation ?? 0) + 1 };
        await setShardLayout(c.env.DB, orgId, layout, deps.now());
        return c.json(await present(c.env, orgId, layout));
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

async function present(env: Env, orgId: string, layout: ShardLayout | undefined) {
  return { organizationId: orgId, layout: layout ?? null, resharding: reshardView(await getReshard(env.DB, orgId)) };
}
