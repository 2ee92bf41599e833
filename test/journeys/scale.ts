/**
 * The main job at size, scaled down so it runs in `npm test` on every host: with D1's value limit
 * and the per-invocation query budget forced low (D1_MAX_VALUE_BYTES, D1_QUERIES_PER_INVOCATION) and
 * small pages, an audience export must keep its state in many chunks and continue over several
 * invocations — incremental, and deduplicated by email through spilled sorted runs — and still write
 * exactly the members an independent computation over the same profiles expects.
 */
import { gunzipSync } from 'node:zlib';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionPolicy } from '../../src/plugins/sink/s3/policy.ts';
import { type Moto, createBucket, createUser, s3Reader, startMoto } from '../harness/moto.ts';
import { type Api, apiClient, type HostKind, type JourneyHost, settledRun, startJourneyHost } from './hosts.ts';

const BUCKET = 'scale';
const N = 6000;
/** Distinct emails: a third of the profiles share theirs with another. */
const EMAILS = 4000;
const T0 = Date.parse('2026-06-01T00:00:00Z');

interface P {
  id: string;
  email: string;
  gold: boolean;
  score: number;
  at: number;
}

const idOf = (i: number) => `p${String(i).padStart(6, '0')}`;
function generate(): Map<string, P> {
  const profiles = new Map<string, P>();
  for (let i = 0; i < N; i++) {
    profiles.set(idOf(i), { id: idOf(i), email: `u${i % EMAILS}@x.io`, gold: (i * 7) % 10 < 5, score: i % 97, at: T0 + i * 1000 });
  }
  return profiles;
}
const ndjson = (ps: Iterable<P>) =>
  [...ps]
    .map((p) =>
      JSON.stringify({
        id: p.id,
        identities: { email: [p.email] },
        attributes: { tier: p.gold ? 'gold' : 'silver', score: p.score },
        updatedAt: new Date(p.at).toISOString(),
      }),
    )
    .join('\n');

/** The winner per email among gold profiles: latest update, then smallest id (the export's rule). */
function winners(profiles: Map<string, P>): Map<string, P> {
  const best = new Map<string, P>();
  for (const p of profiles.values()) {
    if (!p.gold) continue;
    const current = best.get(p.email);
    if (!current || p.at > current.at || (p.at === current.at && p.id < current.id)) best.set(p.email, p);
  }
  return best;
}

/** Registers the scaled-down journey on one host. */
export function scaleJourney(kind: HostKind): void {
  describe(`audiences at size on the ${kind} host (limits forced low: chunked state, continued runs)`, { timeout: 180_000 }, () => {
    let moto: Moto;
    let s3: S3Client;
    let host: JourneyHost;
    let api: Api;
    let dir: string;
    let writer: { accessKeyId: string; secretAccessKey: string };
    const profiles = generate();
    let audience: string;
    const flows: Record<'plain' | 'dedup' | 'diff', string> = { plain: '', dedup: '', diff: '' };

    beforeAll(async () => {
      moto = await startMoto();
      dir = await mkdtemp(join(tmpdir(), `edge-export-scale-${kind}-`));
      await createBucket(moto, BUCKET);
      const user = await createUser(moto, 'writer', permissionPolicy({ bucket: BUCKET, folderPath: `${kind}/` }));
      writer = { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey };
      await moto.enableAuth();
      s3 = s3Reader(moto);
      host = await startJourneyHost(kind, {
        ALLOW_LOOPBACK_ENDPOINTS: 'true',
        D1_MAX_VALUE_BYTES: '20000',
        D1_QUERIES_PER_INVOCATION: '80',
        EXPORT_PROFILE_PAGE: '100',
        // ~3,000 dedup candidates of ~160 heap bytes each: about 6 sorted runs spill, then merge.
        EXPORT_SORT_BUDGET: '80000',
      });
    }, 120_000);

    afterAll(async () => {
      s3?.destroy();
      await host?.stop();
      await moto?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const object = async (key: string) => {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return Buffer.from(await got.Body!.transformToByteArray());
    };
    const run = async (flow: string) => {
      const queued = await api('POST', `/dataflows/${flow}/run`);
      expect(queued.status, queued.text).toBe(202);
      const done = await settledRun(api, queued.body.id, 120_000);
      expect(done.status, `${JSON.stringify(done.error)}\n${host.output()}`).toBe('succeeded');
      return done as { id: string; attempts: number; rows: number; files: { key: string }[] };
    };
    const csvRows = async (keys: string[]) =>
      (
        await Promise.all(keys.map(async (k) => Papa.parse<Record<string, string>>(gunzipSync(await object(k)).toString().trim(), { header: true }).data))
      ).flat();
    const parquetRows = async (keys: string[]) => {
      const duck = await (await DuckDBInstance.create(':memory:')).connect();
      try {
        const files = await Promise.all(
          keys.map(async (k, i) => {
            const file = join(dir, `${i}-${k.replaceAll('/', '_')}`);
            await writeFile(file, await object(k));
            return `'${file}'`;
          }),
        );
        const read = await duck.runAndReadAll(`SELECT email, id, segmentMembership_status AS status FROM read_parquet([${files.join(',')}])`);
        return read.getRowObjectsJson() as { email: string; id: string; status: string }[];
      } finally {
        duck.closeSync();
      }
    };
    const dataFiles = (r: { files: { key: string }[] }) => r.files.map((f) => f.key).filter((k) => !k.includes('/manifest-'));

    it('ingests the profiles and makes a rule audience, two incremental dataflows and a diff one', async () => {
      const org = await apiClient(host.url, host.adminToken)('POST', '/admin/organizations', { name: 'Scale' });
      api = apiClient(host.url, org.body.token);
      const stored = await api('POST', '/profiles', ndjson(profiles.values()), 'application/x-ndjson');
      expect(stored.body).toEqual({ stored: N });
      audience = (await api('POST', '/audiences', { kind: 'rule', name: 'gold', rule: 'attributes.tier = "gold"' })).body.id;
      for (const [name, extra] of [
        ['plain', { fileType: 'csv', compression: 'gzip', manifest: true }],
        ['dedup', { fileType: 'parquet' }],
        ['diff', { fileType: 'csv', compression: 'gzip', manifest: true }],
      ] as const) {
        const destination = await api('POST', '/destinations', {
          name: `scale ${name}`,
          bucket: BUCKET,
          folderPath: `${kind}/${name}/`,
          region: moto.region,
          endpoint: moto.endpoint,
          auth: { method: 'accessKey', ...writer },
          ...extra,
        });
        expect(destination.status, destination.text).toBe(201);
        const flow = await api('POST', '/dataflows', {
          name,
          destinationId: destination.body.id,
          audienceIds: [audience],
          exportMode: name === 'diff' ? 'diff' : 'incremental',
          mapping:
            name !== 'dedup'
              ? { fields: [{ source: 'id' }, { source: 'identities.email', target: 'email' }, { source: 'attributes.score', type: 'integer' }] }
              : { fields: [{ source: 'identities.email', target: 'email' }, { source: 'id' }], dedup: { identity: 'email' } },
        });
        expect(flow.status, flow.text).toBe(201);
        flows[name] = flow.body.id;
      }
    });

    it('exports every member over several invocations, its state in many chunks', async () => {
      const first = await run(flows.plain);
      expect(first.attempts).toBeGreaterThan(1);
      const rows = await csvRows(dataFiles(first));
      const gold = [...profiles.values()].filter((p) => p.gold);
      expect(rows.map((r) => r.id).sort()).toEqual(gold.map((p) => p.id).sort());
      expect(rows.every((r) => r.segmentMembership_status === 'realized')).toBe(true);
      const chunks = await host.sql<{ n: number }>('SELECT count(*) AS n FROM export_state_chunks WHERE dataflow_id = ?', flows.plain);
      expect(chunks[0]!.n).toBeGreaterThan(3);
      // A diff dataflow's first run: every member is added, over several invocations too.
      const diff = await run(flows.diff);
      expect(diff.attempts).toBeGreaterThan(1);
      expect(diff.files.filter((f) => !f.key.includes('/manifest-')).every((f) => /_added(_\d+)?\.csv\.gz$/.test(f.key))).toBe(true);
      expect((await csvRows(dataFiles(diff))).map((r) => r.id).sort()).toEqual(gold.map((p) => p.id).sort());
      const dedup = await run(flows.dedup);
      expect(dedup.attempts).toBeGreaterThan(1);
      const expected = winners(profiles);
      const got = await parquetRows(dataFiles(dedup));
      expect(got.map((r) => `${r.email}:${r.id}:${r.status}`).sort()).toEqual(
        [...expected.values()].map((p) => `${p.email}:${p.id}:realized`).sort(),
      );
    });

    it('exports exactly the changes of the next runs: joined, changed, exited', async () => {
      const beforeWinners = winners(profiles);
      const changed = new Map<string, P>();
      const at = T0 + 10_000_000;
      for (let i = 0; i < 600; i++) {
        const p = profiles.get(idOf(i))!;
        if (p.gold) changed.set(p.id, { ...p, gold: false, at }); // exits
      }
      for (let i = 600; i < 1200; i++) {
        const p = profiles.get(idOf(i))!;
        if (p.gold) changed.set(p.id, { ...p, score: p.score + 1000, at }); // changes
      }
      for (let i = N; i < N + 300; i++) changed.set(idOf(i), { id: idOf(i), email: `new${i}@x.io`, gold: true, score: 1, at }); // joins
      for (const p of changed.values()) profiles.set(p.id, p);
      expect((await api('POST', '/profiles', ndjson(changed.values()), 'application/x-ndjson')).body).toEqual({ stored: changed.size });

      const second = await run(flows.plain);
      const rows = await csvRows(dataFiles(second));
      const expected = [...changed.values()].map((p) => `${p.id}:${p.gold ? 'realized' : 'exited'}`).sort();
      expect(rows.map((r) => `${r.id}:${r.segmentMembership_status}`).sort()).toEqual(expected);
      expect(rows.filter((r) => r.segmentMembership_status === 'realized' && Number(r.score) < 1000 && r.email?.startsWith('u'))).toEqual([]);

      // The diff dataflow writes the same changes as three kinds of files: joined, changed, exited.
      const diff = await run(flows.diff);
      const kindOf = (key: string) => /_(added|changed|removed)(_\d+)?\.csv\.gz$/.exec(key)?.[1];
      const byKind: Record<string, string[]> = { added: [], changed: [], removed: [] };
      for (const key of dataFiles(diff)) byKind[kindOf(key)!]!.push(...(await csvRows([key])).map((r) => r.id!));
      const ids = (keep: (p: P) => boolean) => [...changed.values()].filter(keep).map((p) => p.id).sort();
      expect(byKind.added!.sort()).toEqual(ids((p) => Number(p.id.slice(1)) >= N));
      expect(byKind.changed!.sort()).toEqual(ids((p) => p.gold && Number(p.id.slice(1)) < N));
      expect(byKind.removed!.sort()).toEqual(ids((p) => !p.gold));

      const dedup = await run(flows.dedup);
      const after = winners(profiles);
      const want: string[] = [];
      for (const [email, p] of after) {
        const was = beforeWinners.get(email);
        if (!was || was.id !== p.id) want.push(`${email}:${p.id}:realized`);
      }
      for (const [email] of beforeWinners) {
        if (after.has(email)) continue;
        // Exited: mapped from the latest updated profile still holding the email.
        const holders = [...profiles.values()].filter((p) => p.email === email).sort((a, b) => b.at - a.at || (a.id < b.id ? -1 : 1));
        want.push(`${email}:${holders[0]?.id ?? ''}:exited`);
      }
      const got = await parquetRows(dataFiles(dedup));
      expect(got.map((r) => `${r.email}:${r.id ?? ''}:${r.status}`).sort()).toEqual(want.sort());
      // Nothing of the runs' sorting is left behind, and no state is left staged.
      expect((await host.sql<{ n: number }>('SELECT count(*) AS n FROM export_spill'))[0]!.n).toBe(0);
      expect((await host.sql<{ n: number }>("SELECT count(*) AS n FROM export_state WHERE subject_id LIKE '%@staged:%'"))[0]!.n).toBe(0);
    });
  });
}
