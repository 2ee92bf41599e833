/**
 * POST /v1/audiences/{id}/preview: members now and the members a draft mapping would skip, checked
 * against counts made here from the same generated profiles (real Hono routing, real D1).
 */
import { describe, expect, it } from 'vitest';
import type { Env } from '../../src/worker/env.ts';
import { call, newOrg, testEnv } from './helpers.ts';

interface P {
  id: string;
  identities: { email: string[] };
  attributes: { country: string; email?: string; age?: unknown };
}

/** 30 profiles: every third in FR; every fourth without an email attribute; every fifth with an age past int64. */
const PROFILES: P[] = Array.from({ length: 30 }, (_, i) => {
  const id = `p${String(i).padStart(3, '0')}`;
  return {
    id,
    identities: { email: [`${id}@example.com`] },
    attributes: {
      country: i % 3 === 0 ? 'FR' : 'DE',
      ...(i % 4 !== 0 && { email: `${id}@example.com` }),
      age: i % 5 === 0 ? '99999999999999999999' : 20 + i,
    },
  };
});
const isFr = (p: P) => p.attributes.country === 'FR';
const MAPPING = {
  fields: [
    { source: 'id' },
    { source: 'attributes.email', mandatory: true },
    { source: 'attributes.country' },
  ],
};

async function setup(overrides: Partial<Env> = {}) {
  const e = testEnv(overrides);
  const org = await newOrg(e);
  const api = (method: string, path: string, body?: unknown) =>
    call(e, method, path, { token: org.token, ...(body !== undefined && { body }) });
  const loaded = await call(e, 'POST', '/profiles', {
    token: org.token,
    raw: PROFILES.map((p) => JSON.stringify(p)).join('\n'),
    headers: { 'Content-Type': 'application/x-ndjson' },
  });
  expect(loaded.body).toEqual({ stored: PROFILES.length });
  const audience = await api('POST', '/audiences', { kind: 'rule', name: 'France', rule: 'country = "FR"' });
  expect(audience.status).toBe(201);
  return { e, org, api, audienceId: audience.body.id as string };
}

describe('POST /v1/audiences/{id}/preview', () => {
  it('counts the members now, and those a mandatory field would skip', async () => {
    const { api, audienceId } = await setup();
    const members = PROFILES.filter(isFr);
    const missingEmail = members.filter((p) => p.attributes.email === undefined).length;
    expect(missingEmail).toBeGreaterThan(0);

    const bare = await api('POST', `/audiences/${audienceId}/preview`, {});
    expect(bare.status).toBe(200);
    expect(bare.body).toEqual({
      audienceId,
      profiles: PROFILES.length,
      members: members.length,
      skipped: 0,
      skippedBy: {},
      complete: true,
    });

    const mapped = await api('POST', `/audiences/${audienceId}/preview`, { mapping: MAPPING });
    expect(mapped.body).toMatchObject({
      members: members.length,
      skipped: missingEmail,
      skippedBy: { 'missing:attributes.email': missingEmail },
      complete: true,
    });

    // A value the column type cannot hold skips the member too (as the export refuses it).
    const typed = await api('POST', `/audiences/${audienceId}/preview`, {
      mapping: { fields: [{ source: 'id' }, { source: 'attributes.age', type: 'integer' }] },
    });
    const badAge = members.filter((p) => typeof p.attributes.age !== 'number').length;
    expect(badAge).toBeGreaterThan(0);
    expect(typed.body).toMatchObject({ skipped: badAge, skippedBy: { 'invalid:attributes.age': badAge } });
  });

  it('counts an upload audience by the profiles its identities match', async () => {
    const { e, org, api } = await setup();
    const upload = await api('POST', '/audiences', { kind: 'upload', name: 'List' });
    const csv =
      'namespace,value\nemail,p001@example.com\nemail,p004@example.com\nemail,p008@example.com\nemail,nobody@example.com\n';
    const imported = await call(e, 'POST', `/audiences/${upload.body.id}/members`, {
      token: org.token,
      raw: csv,
      headers: { 'Content-Type': 'text/csv' },
    });
    expect(imported.status).toBe(200);
    const preview = await api('POST', `/audiences/${upload.body.id}/preview`, { mapping: MAPPING });
    // p004 and p008 have no email attribute (every fourth profile).
    expect(preview.body).toMatchObject({
      members: 3,
      skipped: 2,
      skippedBy: { 'missing:attributes.email': 2 },
    });
  });

  it('scales from the profiles it counted when there are more than it may read', async () => {
    const { api, audienceId } = await setup({ PREVIEW_MAX_PROFILES: '10' });
    const first = PROFILES.slice(0, 10);
    const sampleMembers = first.filter(isFr).length;
    const sampleSkipped = first.filter((p) => isFr(p) && p.attributes.email === undefined).length;
    const res = await api('POST', `/audiences/${audienceId}/preview`, { mapping: MAPPING });
    expect(res.body).toMatchObject({
      profiles: 30,
      complete: false,
      sample: { profiles: 10, members: sampleMembers, skipped: sampleSkipped },
      members: Math.round((sampleMembers * 30) / 10),
      skipped: Math.round((sampleSkipped * 30) / 10),
    });
  });

  it('names the field of a bad mapping, and 404s an unknown audience', async () => {
    const { api, audienceId } = await setup();
    const bad = await api('POST', `/audiences/${audienceId}/preview`, { mapping: { fields: [] } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('mapping.fields');
    const extra = await api('POST', `/audiences/${audienceId}/preview`, { mappings: MAPPING });
    expect(extra.status).toBe(400);
    expect(JSON.stringify(extra.body)).toContain('mappings');
    expect((await api('POST', '/audiences/aud_nope/preview', {})).status).toBe(404);
  });
});
