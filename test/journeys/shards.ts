/**
 * A sharded organization through the HTTP API on every host (docs/SCALE.md): the operator gives it
 * four shards, its profiles are ingested in batches and land in the shard owning each id's bucket
 * (read from the shards themselves: the ProfileShard Durable Objects in workerd, the SQLite files of
 * the Node and Deno hosts; expected with bucketOf computed here), a profile ingested again is
 * replaced, a bad batch writes nothing anywhere, and an audience preview counts what the same
 * profiles in D1 give.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf, initialLayout } from '../../src/worker/shards/types.ts';
import { type Api, apiClient, type HostKind, type JourneyHost, startJourneyHost } from './hosts.ts';

const N = 3000;
const BATCH = 1000;

interface P {
  id: string;
  identities: { email: string[] };
  attributes: { tier: string; n: number };
}
const PROFILES: P[] = Array.from({ length: N }, (_, i) => ({
  id: `cust-${(i * 7919) % 100_003}-${i}`,
  identities: { email: [`c${i}@example.com`] },
  attributes: { tier: i % 4 === 0 ? 'gold' : 'basic', n: i },
}));
const ndjson = (profiles: readonly unknown[]) => profiles.map((p) => JSON.stringify(p)).join('\n');
const LAYOUT = initialLayout(4);
/** Each shard's ids, computed from the profiles' buckets (never read back from a shard). */
const expectedIds = (profiles: readonly P[]) =>
  LAYOUT.shards.map((owner) => profiles.filter((p) => bucketOf(p.id) >= owner.from && bucketOf(p.id) < owner.to).map((p) => p.id).sort());

export function shardsJourney(kind: HostKind): void {
  describe(`a sharded organization on the ${kind} host`, { timeout: 120_000 }, () => {
    let host: JourneyHost;
    let admin: Api;
    let orgId: string;
    let api: Api;
    let plain: Api;
    const perShard = () => Promise.all(LAYOUT.shards.map((owner) => host.shardIds(orgId, owner.name)));

    beforeAll(async () => {
      host = await startJourneyHost(kind, {});
      admin = apiClient(host.url, host.adminToken);
      const created = await admin('POST', '/admin/organizations', { name: 'Sharded', shards: 4 });
      expect(created.status, created.text).toBe(201);
      orgId = created.body.id;
      api = apiClient(host.url, created.body.token);
      plain = apiClient(host.url, (await admin('POST', '/admin/organizations', { name: 'In D1' })).body.token);
    }, 90_000);

    afterAll(async () => {
      await host?.stop();
    });

    it('ingests batches into the four shards, each profile in the shard owning its bucket', async () => {
      expect((await admin('GET', `/admin/organizations/${orgId}/shards`)).body).toEqual({ organizationId: orgId, layout: LAYOUT, resharding: { state: 'idle' } });
      for (let i = 0; i < N; i += BATCH) {
        const stored = await api('POST', '/profiles', ndjson(PROFILES.slice(i, i + BATCH)), 'application/x-ndjson');
        expect(stored.body, stored.text).toEqual({ stored: BATCH });
      }
      const held = await perShard();
      const expected = expectedIds(PROFILES);
      expect(held.map((ids) => ids.length)).toEqual(expected.map((ids) => ids.length));
      for (const ids of expected) expect(ids.length).toBeGreaterThan(N / 8);
      expect(held).toEqual(expected);
      // Not in D1: the organization's profiles are its shards'; their names are kept in D1.
      expect(await host.sql('SELECT id FROM profiles WHERE org_id = ?', orgId)).toEqual([]);
      expect(await host.sql('SELECT name FROM profile_names WHERE org_id = ? ORDER BY name', orgId)).toEqual([
        { name: 'email' },
        { name: 'n' },
        { name: 'tier' },
      ]);
    });

    it('replaces a profile ingested again, and a bad batch writes nothing to any shard', async () => {
      const upgraded = PROFILES.filter((p) => p.attributes.tier === 'basic').slice(0, 250).map((p) => ({ ...p, attributes: { ...p.attributes, tier: 'gold' } }));
      expect((await api('POST', '/profiles', ndjson(upgraded), 'application/x-ndjson')).body).toEqual({ stored: 250 });
      const before = await perShard();
      expect(before).toEqual(expectedIds(PROFILES));

      const fresh = Array.from({ length: 40 }, (_, i) => ({ id: `late-${i}`, identities: {}, attributes: { tier: 'gold', n: -i } }));
      const bad = ndjson([...fresh.slice(0, 20), { id: '', identities: {}, attributes: {} }, ...fresh.slice(20)]);
      const refused = await api('POST', '/profiles', bad, 'application/x-ndjson');
      expect(refused.status).toBe(400);
      expect(refused.body.error.details.errors.map((e: { line: number }) => e.line)).toEqual([21]);
      expect(await perShard()).toEqual(before);

      // The same profiles, with the same re-ingest, into an organization keeping them in D1.
      for (let i = 0; i < N; i += BATCH) await plain('POST', '/profiles', ndjson(PROFILES.slice(i, i + BATCH)), 'application/x-ndjson');
      await plain('POST', '/profiles', ndjson(upgraded), 'application/x-ndjson');
    });

    it('previews an audience with the counts the same profiles in D1 give', async () => {
      const gold = PROFILES.filter((p) => p.attributes.tier === 'gold').length + 250;
      const previews = [];
      for (const client of [api, plain]) {
        const audience = await client('POST', '/audiences', { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' });
        expect(audience.status, audience.text).toBe(201);
        const mapping = { fields: [{ source: 'id' }, { source: 'attributes.n', type: 'integer', mandatory: true }] };
        const preview = await client('POST', `/audiences/${audience.body.id}/preview`, { mapping });
        expect(preview.status, preview.text).toBe(200);
        const { audienceId: _, ...counts } = preview.body;
        previews.push(counts);
      }
      expect(previews[0]).toEqual({ profiles: N, members: gold, skipped: 0, skippedBy: {}, complete: true });
      expect(previews[0]).toEqual(previews[1]);
    });

    it('grows an organization that has profiles only by resharding (a second change meanwhile: 409 naming shards)', async () => {
      const grown = await admin('PUT', `/admin/organizations/${orgId}/shards`, { shards: 8 });
      expect(grown.status, grown.text).toBe(200);
      expect(grown.body.layout.next).toHaveLength(8);
      const refused = await admin('PUT', `/admin/organizations/${orgId}/shards`, { shards: 16 });
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(/^shards: .*resharding/);
    });
  });
}
