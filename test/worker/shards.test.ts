/**
 * Sharded profile storage on workerd (docs/SCALE.md): the shard contract against the real
 * `ProfileShard` Durable Object with SQLite storage (each call an RPC through the SHARDS binding), and
 * a sharded organization through the API: its layout, ingest routed to its shards, preview counts.
 * Expected shards are computed here with bucketOf from the ingested ids.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/worker/env.ts';
import {
  bucketOf,
  initialLayout,
  SHARD_BUCKETS,
  type ShardLayout,
  type ShardProfile,
  type ShardStore,
  shardNamespace,
} from '../../src/worker/shards/types.ts';
import { setShardLayout } from '../../src/worker/store/shards.ts';
import { shardContract } from '../hosts/shard-contract.ts';
import { call, newOrg, testEnv } from './helpers.ts';

/**
 * The stub's calls as plain promises: an RPC promise is also a stub, so the matchers' property probes
 * (`expect(p).rejects`) would each start a pipelined call whose rejection nobody handles.
 */
function plain(stub: ShardStore): ShardStore {
  return {
    upsertProfiles: async (...args) => await stub.upsertProfiles(...args),
    insertMissingProfiles: async (...args) => await stub.insertMissingProfiles(...args),
    profiles: async (...args) => await stub.profiles(...args),
    split: async (...args) => await stub.split(...args),
    deleteBuckets: async (...args) => await stub.deleteBuckets(...args),
  };
}

let n = 0;
shardContract('workerd (ProfileShard Durable Object)', () => plain(shardNamespace(env.SHARDS)!.shard('org_x', `contract-${++n}`)));

// ---- The API of a sharded organization, in-process on workerd (real Hono routing, D1 and Durable Objects).

interface P {
  id: string;
  identities: { email: string[] };
  attributes: { country: string; n: number };
}
const profilesOf = (count: number, prefix: string, n = 1): P[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${(i * 7919) % 10_007}-${i}`,
    identities: { email: [`${prefix}${i}@example.com`] },
    attributes: { country: i % 3 === 0 ? 'FR' : 'DE', n },
  }));
const ndjson = (profiles: readonly unknown[]) => profiles.map((p) => JSON.stringify(p)).join('\n');
const ALL = { from: 0, to: SHARD_BUCKETS };

async function admin(e: Env, method: string, path: string, body?: unknown) {
  return call(e, method, `/admin${path}`, { token: e.ADMIN_TOKEN!, ...(body !== undefined && { body }) });
}

/** A new organization given `shards` shards at creation, with its API caller. */
async function shardedOrg(e: Env, shards: number) {
  const created = await admin(e, 'POST', '/organizations', { name: 'Sharded', shards });
  expect(created.status).toBe(201);
  expect(created.body.shards).toBe(shards);
  const orgId = created.body.id as string;
  const token = created.body.token as string;
  const ingest = (profiles: readonly unknown[]) =>
    call(e, 'POST', '/profiles', { token, raw: ndjson(profiles), headers: { 'Content-Type': 'application/x-ndjson' } });
  return { orgId, token, ingest };
}

/** Each shard's profiles of the organization, read from the Durable Objects themselves. */
async function perShard(orgId: string, layout: ShardLayout): Promise<Map<string, ShardProfile[]>> {
  const shards = shardNamespace(env.SHARDS)!;
  const out = new Map<string, ShardProfile[]>();
  for (const owner of layout.shards) out.set(owner.name, await shards.shard(orgId, owner.name).profiles(orgId, ALL, { after: null, through: null }, 10_000));
  return out;
}

describe('a sharded organization through the API on workerd', () => {
  it('POST /admin/organizations with shards: 4 gives it four equal bucket ranges; GET shows them', async () => {
    const e = testEnv();
    const { orgId } = await shardedOrg(e, 4);
    const got = await admin(e, 'GET', `/organizations/${orgId}/shards`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ organizationId: orgId, layout: initialLayout(4), resharding: { state: 'idle' } });
    expect(got.body.layout.shards.map((s: { from: number }) => s.from)).toEqual([0, 1024, 2048, 3072]);
    const plain = await newOrg(e);
    expect((await admin(e, 'GET', `/organizations/${plain.id}/shards`)).body).toEqual({ organizationId: plain.id, layout: null, resharding: { state: 'idle' } });
  });

  it('routes each profile of a batch to the shard owning its bucket, and keeps the names in D1, not the profiles', async () => {
    const e = testEnv();
    const { orgId, ingest } = await shardedOrg(e, 4);
    const profiles = profilesOf(400, 'a');
    expect((await ingest(profiles)).body).toEqual({ stored: 400 });
    const layout = initialLayout(4);
    const stored = await perShard(orgId, layout);
    for (const owner of layout.shards) {
      const expected = profiles.filter((p) => bucketOf(p.id) >= owner.from && bucketOf(p.id) < owner.to).map((p) => p.id).sort();
      expect(expected.length).toBeGreaterThan(50);
      expect(stored.get(owner.name)!.map((p) => p.id)).toEqual(expected);
    }
    const sample = stored.get('s0')![0]!;
    const source = profiles.find((p) => p.id === sample.id)!;
    expect(JSON.parse(sample.json)).toEqual({ identities: source.identities, attributes: source.attributes });
    const d1 = await env.DB.prepare('SELECT COUNT(*) AS n FROM profiles WHERE org_id = ?').bind(orgId).first<{ n: number }>();
    expect(d1!.n).toBe(0);
    const names = await env.DB.prepare('SELECT kind, name FROM profile_names WHERE org_id = ? ORDER BY kind, name').bind(orgId).all();
    expect(names.results).toEqual([
      { kind: 'attribute', name: 'country' },
      { kind: 'attribute', name: 'n' },
      { kind: 'identity', name: 'email' },
    ]);
  });

  it('replaces a profile ingested again, in its shard; a bad batch writes nothing to any shard', async () => {
    const e = testEnv();
    const { orgId, ingest } = await shardedOrg(e, 4);
    const first = profilesOf(120, 'b', 1);
    await ingest(first);
    const again = first.slice(0, 30).map((p) => ({ ...p, attributes: { ...p.attributes, n: 2 } }));
    expect((await ingest(again)).body).toEqual({ stored: 30 });
    const layout = initialLayout(4);
    const before = await perShard(orgId, layout);
    const rows = [...before.values()].flat();
    expect(rows.length).toBe(120);
    const changed = new Set(again.map((p) => p.id));
    for (const row of rows) expect(JSON.parse(row.json).attributes.n).toBe(changed.has(row.id) ? 2 : 1);

    // Line 3 is bad (no id): the whole batch is refused before any shard is called.
    const bad = [...profilesOf(2, 'c'), { identities: {}, attributes: {} }, ...profilesOf(40, 'd')];
    const refused = await ingest(bad);
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.errors[0].line).toBe(3);
    expect(await perShard(orgId, layout)).toEqual(before);
  });

  it('refuses a profile over the value limit (413) before writing any of its batch to any shard', async () => {
    const e = testEnv({ D1_MAX_VALUE_BYTES: '4000' });
    const { orgId, ingest } = await shardedOrg(e, 4);
    const big = { id: 'big', identities: {}, attributes: { note: 'x'.repeat(5000) } };
    const refused = await ingest([...profilesOf(50, 'f'), big]);
    expect(refused.status).toBe(413);
    expect(refused.body.error.message).toMatch(/over a shard's 4000-byte value limit/);
    expect([...(await perShard(orgId, initialLayout(4))).values()].flat()).toEqual([]);
  });

  it('while resharding (layout.next), writes each profile to its owner and, when another, its next owner', async () => {
    const e = testEnv();
    const { orgId, ingest } = await shardedOrg(e, 2);
    const next = initialLayout(4).shards.map((s) => ({ ...s, name: `n${s.name}` }));
    await setShardLayout(env.DB, orgId, { ...initialLayout(2), next }, new Date());
    const profiles = profilesOf(200, 'r');
    await ingest(profiles);
    const shards = shardNamespace(env.SHARDS)!;
    for (const owner of [...initialLayout(2).shards, ...next]) {
      const held = await shards.shard(orgId, owner.name).profiles(orgId, ALL, { after: null, through: null }, 1000);
      const expected = profiles.filter((p) => bucketOf(p.id) >= owner.from && bucketOf(p.id) < owner.to).map((p) => p.id).sort();
      expect(held.map((p) => p.id)).toEqual(expected);
    }
  });

  it('previews an audience with the same counts as the same profiles in D1', async () => {
    const e = testEnv();
    const profiles = profilesOf(300, 'v');
    const sharded = await shardedOrg(e, 4);
    await sharded.ingest(profiles);
    const plain = await newOrg(e);
    await call(e, 'POST', '/profiles', { token: plain.token, raw: ndjson(profiles), headers: { 'Content-Type': 'application/x-ndjson' } });
    const previews = [];
    for (const token of [sharded.token, plain.token]) {
      const audience = await call(e, 'POST', '/audiences', { token, body: { kind: 'rule', name: 'FR', rule: 'country = "FR"' } });
      const { audienceId: _, ...counts } = (await call(e, 'POST', `/audiences/${audience.body.id}/preview`, { token, body: {} })).body;
      previews.push(counts);
    }
    expect(previews[0]).toEqual(previews[1]);
    expect(previews[0]).toMatchObject({ profiles: 300, members: 100, complete: true });
    // Scaled past PREVIEW_MAX_PROFILES: the pages over the shards count the same first profiles by id.
    const small = testEnv({ PREVIEW_MAX_PROFILES: '70' });
    const scaled = [];
    for (const token of [sharded.token, plain.token]) {
      const list = await call(small, 'GET', '/audiences', { token });
      const { audienceId: _, ...counts } = (await call(small, 'POST', `/audiences/${list.body.items[0].id}/preview`, { token, body: {} })).body;
      scaled.push(counts);
    }
    expect(scaled[0]).toEqual(scaled[1]);
    expect(scaled[0]).toMatchObject({ profiles: 300, complete: false, sample: { profiles: 70 } });
  });

  it('PUT /admin/organizations/{id}/shards sets N shards before the first profile, and afterwards starts a resharding (a second one refused, 409 naming shards)', async () => {
    const e = testEnv();
    const org = await newOrg(e);
    const bad = await admin(e, 'PUT', `/organizations/${org.id}/shards`, { shards: 257 });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/shards: expected an integer from 1 to 256/);
    const set = await admin(e, 'PUT', `/organizations/${org.id}/shards`, { shards: 3 });
    expect(set.status).toBe(200);
    expect(set.body.layout.shards.map((s: { name: string }) => s.name)).toEqual(['s0', 's1', 's2']);
    // No profile yet: it may change its mind (a new generation).
    const reset = await admin(e, 'PUT', `/organizations/${org.id}/shards`, { shards: 8 });
    expect(reset.body.layout).toEqual({ ...initialLayout(8), generation: 2 });
    await call(e, 'POST', '/profiles', { token: org.token, raw: ndjson(profilesOf(5, 'z')), headers: { 'Content-Type': 'application/x-ndjson' } });
    // With profiles, the organization grows by resharding (test/worker/reshard.test.ts); a second growth is refused meanwhile.
    const grown = await admin(e, 'PUT', `/organizations/${org.id}/shards`, { shards: 16 });
    expect(grown.status).toBe(200);
    expect(grown.body.layout.next).toHaveLength(16);
    expect(grown.body.resharding).toMatchObject({ state: 'copying', shards: 16 });
    const refused = await admin(e, 'PUT', `/organizations/${org.id}/shards`, { shards: 32 });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/^shards: .*already resharding/);
    // An organization with profiles in D1 grows from the single-database layout.
    const inD1 = await newOrg(e);
    await call(e, 'POST', '/profiles', { token: inD1.token, raw: ndjson(profilesOf(1, 'y')), headers: { 'Content-Type': 'application/x-ndjson' } });
    expect((await admin(e, 'PUT', `/organizations/${inD1.id}/shards`, { shards: 2 })).body.resharding).toMatchObject({ state: 'copying', from: 'single-database' });
    expect((await admin(e, 'PUT', '/organizations/org_missing/shards', { shards: 2 })).status).toBe(404);
    expect((await call(e, 'PUT', `/admin/organizations/${org.id}/shards`, { token: org.token, body: { shards: 2 } })).status).toBe(401);
  });
});
