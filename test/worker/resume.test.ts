/**
 * A run killed in the middle of a multipart upload (the isolate dies after its 2nd UploadPart: every
 * later request fails, nothing is cleaned up) resumes on redelivery from the upload id and part ETags
 * kept in the run row: only the missing parts are sent, and the object is complete and correct in moto.
 */
import { describe, expect, inject, it } from 'vitest';
import { consumeBatch } from '../../src/worker/consumer.ts';
import { executeRun } from '../../src/worker/execute.ts';
import { claimRun, getRun } from '../../src/worker/store/runs.ts';
import { call, newOrg, platformOf, testEnv } from './helpers.ts';
import { motoAdmin } from './moto-client.ts';

const moto = inject('moto');
const PROFILES = 2300;
const BIO = 8000;

/** A deterministic 8000-character attribute: 2300 profiles make ~18 MB of CSV, four parts of the Worker's 5 MiB. */
function bio(i: number): string {
  const unit = `profile-${i}-abcdefghijklmnopqrstuvwxyz-`;
  return unit.repeat(Math.ceil(BIO / unit.length)).slice(0, BIO);
}
const idOf = (i: number) => `p${String(i).padStart(5, '0')}`;

async function loadProfiles(e: ReturnType<typeof testEnv>, token: string): Promise<void> {
  for (let start = 0; start < PROFILES; start += 500) {
    const lines = [];
    for (let i = start; i < Math.min(PROFILES, start + 500); i++)
      lines.push(JSON.stringify({ id: idOf(i), attributes: { bio: bio(i) } }));
    const res = await call(e, 'POST', '/profiles', {
      token,
      raw: lines.join('\n'),
      headers: { 'Content-Type': 'application/x-ndjson' },
    });
    expect(res.status).toBe(200);
  }
}

const isUploadPart = (url: string, method: string) =>
  method === 'PUT' && /[?&]partNumber=\d+/.test(url) && /[?&]uploadId=/.test(url);

describe('a run killed mid-multipart', () => {
  it('resumes from the persisted upload id and part ETags and completes with the right object', async () => {
    const e = testEnv({ ALLOW_LOOPBACK_ENDPOINTS: 'true' });
    const org = await newOrg(e);
    await loadProfiles(e, org.token);
    const folder = `${moto.folder}resume/`;
    const dest = await call(e, 'POST', '/destinations', {
      token: org.token,
      body: {
        name: 'moto',
        bucket: moto.bucket,
        folderPath: folder,
        endpoint: moto.endpoint,
        auth: { method: 'accessKey', ...moto.writer },
      },
    });
    const aud = await call(e, 'POST', '/audiences', {
      token: org.token,
      body: { kind: 'rule', name: 'everyone', rule: 'id != ""' },
    });
    const flow = await call(e, 'POST', '/dataflows', {
      token: org.token,
      body: {
        name: 'big',
        destinationId: dest.body.id,
        audienceIds: [aud.body.id],
        mapping: { fields: [{ source: 'id' }, { source: 'attributes.bio', target: 'bio' }] },
      },
    });
    const queued = await call(e, 'POST', `/dataflows/${flow.body.id}/run`, { token: org.token });
    const runId = queued.body.id as string;
    const t1 = new Date();

    // Attempt 1: the consumer claims the run, then its isolate dies after the 2nd UploadPart.
    let parts = 0;
    let dead = false;
    const crashing = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input);
      if (!dead && isUploadPart(url, init?.method ?? 'GET') && ++parts > 2) dead = true;
      if (dead) throw new Error('simulated crash: the isolate is gone');
      return fetch(input, init);
    }) as typeof fetch;
    expect(await claimRun(e.DB, org.id, runId, t1)).toBe(true);
    await expect(executeRun(e, (await getRun(e.DB, org.id, runId))!, platformOf(e, { fetch: crashing }))).rejects.toThrow();

    const crashed = (await getRun(e.DB, org.id, runId))!;
    expect(crashed.status).toBe('running');
    const persisted = JSON.parse(crashed.multipart!) as Record<
      string,
      { uploadId: string; parts: { partNumber: number; etag: string; size: number }[] }
    >;
    const [key, state] = Object.entries(persisted)[0]!;
    expect(key.startsWith(folder)).toBe(true);
    expect(state.parts.map((p) => p.partNumber)).toEqual([1, 2]);
    expect(state.parts.every((p) => /^"[0-9a-f]{32}"$/.test(p.etag) && p.size === 5 * 1024 * 1024)).toBe(
      true,
    );
    const s3 = motoAdmin();
    expect(await s3.uploads(folder)).toEqual([[key, state.uploadId]]);
    expect(await s3.list(folder)).toEqual([]);

    // Attempt 2: the message is redelivered after the lease expired; only the missing part is sent.
    const sent: string[] = [];
    const counting = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input);
      if (isUploadPart(url, init?.method ?? 'GET')) sent.push(/partNumber=(\d+)/.exec(url)![1]!);
      return fetch(input, init);
    }) as typeof fetch;
    const acked: string[] = [];
    const batch = {
      queue: 'edge-export-runs',
      messages: [
        {
          id: 'm1',
          body: { runId, orgId: org.id },
          attempts: 2,
          ack: () => acked.push('m1'),
          retry: () => {},
        },
      ],
    };
    await consumeBatch(batch, e, {
      executeRun: (env, run) => executeRun(env, run, platformOf(env, { fetch: counting })),
      now: () => new Date(t1.getTime() + 16 * 60_000),
    });
    expect(acked).toEqual(['m1']);
    expect(sent).toEqual(['3', '4']);

    const done = (await call(e, 'GET', `/runs/${runId}`, { token: org.token })).body;
    expect(done).toMatchObject({ status: 'succeeded', rows: PROFILES, attempts: 2 });
    expect((await getRun(e.DB, org.id, runId))!.multipart).toBeNull();
    expect(await s3.uploads(folder)).toEqual([]);
    expect(await s3.list(folder)).toEqual([key]);
    const object = await s3.get(key);
    expect(object.etag).toMatch(/-4"$/);
    const lines = object.text.split(/\r?\n/).filter(Boolean);
    expect(lines[0]).toBe('id,bio');
    expect(lines).toHaveLength(PROFILES + 1);
    for (let i = 0; i < PROFILES; i++) {
      if (lines[i + 1] !== `${idOf(i)},${bio(i)}`)
        throw new Error(`row ${i + 1} differs: ${lines[i + 1]!.slice(0, 80)}`);
    }
    expect(done.bytes).toBe(new TextEncoder().encode(object.text).byteLength);
  });
});
