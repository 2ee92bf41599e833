/**
 * Resharding on every host (docs/SCALE.md, "Resharding"), through the HTTP API only, against moto with
 * auth enforced: an organization in 2 shards and one in the single-database layout, fed the same
 * profiles, each export a rule audience; both grow to 4 shards while the same batches (new profiles and
 * newer versions of old ones) keep being ingested into both. The host's queue runs the job (small pages
 * and a small query budget: many invocations). Afterwards every shard — the Durable Objects in workerd,
 * the shard files of Node and Deno — holds exactly the profiles its buckets own (bucket computed by the
 * test), D1 holds none of the grown organization's, and the exports of both organizations hold the same
 * rows, those computed from what was ingested, newest versions included.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionPolicy } from '../../src/plugins/sink/s3/policy.ts';
import { type Moto, csvRowsOf, startMotoWithWriter } from '../harness/moto.ts';
import { fnvOwner } from '../support/fnv-bucket.ts';
import { type Api, apiClient, type HostKind, type JourneyHost, settledRun, startJourneyHost } from './hosts.ts';

const BUCKET = 'reshard';
/** Profiles each organization starts with; the growth moves half of them (2 → 4), or all (D1 → 4). */
const N = 3000;
const BATCH = 1000;

interface Person {
  id: string;
  tier: 'gold' | 'silver';
  v: number;
}
const idOf = (i: number) => `r${String(i).padStart(5, '0')}`;
const ndjson = (list: readonly Person[]) => list.map((p) => JSON.stringify({ id: p.id, attributes: { tier: p.tier, v: p.v } })).join('\n');
/** The rows an export of the gold audience holds for these profiles (mapping id, tier, v), as papaparse reads them. */
const goldRows = (people: Iterable<Person>) =>
  [...people].filter((p) => p.tier === 'gold').map((p) => JSON.stringify({ id: p.id, tier: p.tier, v: String(p.v) })).sort();

export function reshardJourney(kind: HostKind): void {
  describe(`resharding on the ${kind} host`, { timeout: 240_000 }, () => {
    let moto: Moto;
    let s3: S3Client;
    let host: JourneyHost;
    let writer: { accessKeyId: string; secretAccessKey: string };

    beforeAll(async () => {
      ({ moto, reader: s3, writer } = await startMotoWithWriter(BUCKET, 'writer', permissionPolicy({ bucket: BUCKET, folderPath: `${kind}/` })));
      host = await startJourneyHost(kind, {
        ALLOW_LOOPBACK_ENDPOINTS: 'true',
        // The copy starts 2 s after the PUT, 50 profiles a page, ~7 pages an invocation (60 queries and RPCs).
        RESHARD_SETTLE_SECONDS: '2',
        RESHARD_PAGE: '50',
        D1_QUERIES_PER_INVOCATION: '60',
      });
    }, 120_000);

    afterAll(async () => {
      s3?.destroy();
      await host?.stop();
      await moto?.stop();
    });

    it('grows 2 → 4 shards and the single-database layout → 4 shards while ingesting; every profile in its owner, exports unchanged in meaning', async () => {
      const admin = apiClient(host.url, host.adminToken);
      const labels = ['sharded', 'single'] as const;
      const orgs = {} as Record<(typeof labels)[number], { id: string; api: Api; flow: string }>;
      const latest = new Map<string, Person>();
      const ingest = async (list: readonly Person[]) => {
        for (const { api } of Object.values(orgs)) {
          for (let i = 0; i < list.length; i += BATCH) {
            const stored = await api('POST', '/profiles', ndjson(list.slice(i, i + BATCH)), 'application/x-ndjson');
            expect(stored.status, stored.text).toBe(200);
          }
        }
        for (const p of list) latest.set(p.id, p);
      };
      for (const label of labels) {
        const org = await admin('POST', '/admin/organizations', { name: `${label} co`, ...(label === 'sharded' && { shards: 2 }) });
        expect(org.status, org.text).toBe(201);
        const api = apiClient(host.url, org.body.token);
        const rule = await api('POST', '/audiences', { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' });
        const destination = await api('POST', '/destinations', {
          name: `${label} dest`,
          bucket: BUCKET,
          folderPath: `${kind}/${label}/`,
          region: moto.region,
          endpoint: moto.endpoint,
          auth: { method: 'accessKey', ...writer },
          fileType: 'csv',
        });
        expect(destination.status, destination.text).toBe(201);
        const flow = await api('POST', '/dataflows', {
          name: `${label} flow`,
          destinationId: destination.body.id,
          audienceIds: [rule.body.id],
          mapping: { fields: [{ source: 'id' }, { source: 'attributes.tier', target: 'tier' }, { source: 'attributes.v', target: 'v' }] },
        });
        expect(flow.status, flow.text).toBe(201);
        orgs[label] = { id: org.body.id, api, flow: flow.body.id };
      }
      await ingest(Array.from({ length: N }, (_, i) => ({ id: idOf(i), tier: i % 3 === 0 ? 'silver' : 'gold', v: 1 })));
      const exportRows = async (label: (typeof labels)[number]) => {
        const queued = await orgs[label].api('POST', `/dataflows/${orgs[label].flow}/run`);
        expect(queued.status, queued.text).toBe(202);
        const done = await settledRun(orgs[label].api, queued.body.id, 120_000);
        expect(done.status, `${JSON.stringify(done.error)}\n${host.output()}`).toBe('succeeded');
        return csvRowsOf(s3, BUCKET, done.files);
      };
      // Before: both organizations export the gold profiles.
      const before = goldRows(latest.values());
      for (const label of labels) expect(await exportRows(label)).toEqual(before);

      const grown = await admin('PUT', `/admin/organizations/${orgs.sharded.id}/shards`, { shards: 4 });
      expect(grown.status, grown.text).toBe(200);
      expect(grown.body.layout.next.map((o: { name: string }) => o.name)).toEqual(['s0', 's2', 's1', 's3']);
      const fromD1 = await admin('PUT', `/admin/organizations/${orgs.single.id}/shards`, { shards: 4 });
      expect(fromD1.status, fromD1.text).toBe(200);
      expect(fromD1.body.resharding).toMatchObject({ from: 'single-database', shards: 4, movedBuckets: 4096 });

      // Ingest while the job runs (the first copy starts 2 s after the PUT, then goes on invocation by invocation):
      // newer versions of old profiles (some turn silver) and new ones, the same into both. Whether a batch lands
      // before, during or after a page's copy, the outcome checked below must be the same.
      const deadline = Date.now() + 150_000;
      const states = () => Promise.all(labels.map(async (label) => (await admin('GET', `/admin/organizations/${orgs[label].id}/shards`)).body));
      for (let round = 1; ; round++) {
        const shown = await states();
        if (round > 8 && shown.every((s) => s.resharding.state === 'idle')) break;
        expect(Date.now(), JSON.stringify(shown.map((s) => s.resharding))).toBeLessThan(deadline);
        if (round > 8) await new Promise((resolve) => setTimeout(resolve, 100));
        else {
          const newer = Array.from({ length: 100 }, (_, k) => idOf(round * 97 + k * 13)).map((id, k) => ({ id, tier: (k + round) % 4 === 0 ? 'silver' : 'gold', v: round + 1 }) as Person);
          const fresh = Array.from({ length: 50 }, (_, k) => ({ id: idOf(N + round * 50 + k), tier: 'gold', v: round + 1 }) as Person);
          await ingest([...newer, ...fresh]);
        }
      }
      const [sharded, single] = await states();
      for (const shown of [sharded, single]) {
        expect(shown.layout.next).toBeUndefined();
        expect(shown.layout.shards.map((o: { name: string; from: number; to: number }) => [o.from, o.to])).toEqual([
          [0, 1024],
          [1024, 2048],
          [2048, 3072],
          [3072, 4096],
        ]);
        expect(shown.resharding.error).toBeUndefined();
      }
      expect(sharded.layout.generation).toBe(2);
      expect(single.layout.generation).toBe(1);

      // Every profile in exactly its owner, nothing elsewhere; D1 keeps none of the grown organization's.
      for (const [label, shown] of [['sharded', sharded], ['single', single]] as const) {
        const expected = new Map<string, string[]>(shown.layout.shards.map((o: { name: string }) => [o.name, []]));
        for (const id of latest.keys()) expected.get(fnvOwner(shown.layout.shards, id))!.push(id);
        for (const [name, ids] of expected) expect(await host.shardIds(orgs[label].id, name), `${label} ${name}`).toEqual(ids.sort());
        expect(await host.sql('SELECT id FROM profiles WHERE org_id = ?', orgs[label].id)).toEqual([]);
      }
      // Deleted from the old owners: every moved profile they held (the first N's moved ones at least; those ingested after the flip never were there).
      const moved = (ids: Iterable<string>) => [...ids].filter((id) => fnvOwner(grown.body.layout.next, id) !== fnvOwner(grown.body.layout.shards, id)).length;
      expect(sharded.resharding.deleted).toBeGreaterThanOrEqual(moved(Array.from({ length: N }, (_, i) => idOf(i))));
      expect(sharded.resharding.deleted).toBeLessThanOrEqual(moved(latest.keys()));
      expect(single.resharding.deleted).toBeGreaterThanOrEqual(N);

      // After: the same rows from both organizations, those of the newest versions ingested.
      const after = goldRows(latest.values());
      expect(after).not.toEqual(before);
      for (const label of labels) expect(await exportRows(label)).toEqual(after);
    });
  });
}
