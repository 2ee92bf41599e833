import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { uploadMembership } from '../src/core/data/audience.ts';
import { planAudienceExport } from '../src/core/data/export-plan.ts';
import { compileMapping } from '../src/core/data/mapping.ts';
import { MemoryStore } from './support/memory-store.ts';
import type { Profile } from '../src/core/data/model.ts';
import { streamProfiles, streamUploadMembers } from '../src/core/data/store.ts';
import { importUpload } from '../src/core/data/upload.ts';
import { collect, collectRows, fromIterable } from '../src/core/streams.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/profiles/${name}`, import.meta.url), 'utf8');
const profiles = (): Profile[] =>
  fixture('profiles.ndjson')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Profile);

async function uploadStore() {
  const store = new MemoryStore();
  await store.putAudience({ id: 'aud-up', name: 'Uploaded VIPs', kind: 'upload' });
  return store;
}

const members = async (store: MemoryStore) => collect(streamUploadMembers(store, 'aud-up', 2));

/** Bytes in tiny chunks so records and UTF-8 sequences straddle chunk boundaries. */
function chunked(text: string | Uint8Array, size = 3): ReadableStream<Uint8Array> {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size));
  return fromIterable(chunks);
}

describe('custom-upload audiences', () => {
  it('imports a valid file with its extra columns', async () => {
    const store = await uploadStore();
    const result = await importUpload(store, 'aud-up', fixture('uploads/good.csv'), { batchSize: 2 });
    expect(result).toEqual({ ok: true, imported: 4, rows: 4, errors: [], errorCount: 0 });
    expect(await members(store)).toEqual([
      { namespace: 'crmId', value: 'CRM-42', attributes: { tier: 'gold, plus', store: 'Nice' } },
      { namespace: 'ecid', value: '12345678901234567890', attributes: { tier: '', store: '' } },
      { namespace: 'email', value: 'ada@example.com', attributes: { tier: 'gold', store: 'Paris' } },
      { namespace: 'phone', value: '+33 1 23 45 67 89', attributes: { tier: 'silver', store: 'Lyon' } },
    ]);
  });

  it('reports every bad row with its line and imports nothing, keeping the previous members', async () => {
    const store = await uploadStore();
    await importUpload(store, 'aud-up', fixture('uploads/good.csv'));
    const before = await members(store);
    const result = await importUpload(store, 'aud-up', fixture('uploads/bad.csv'), { batchSize: 1 });
    expect(result.ok).toBe(false);
    expect(result.imported).toBe(0);
    expect(result.errors).toEqual([
      { line: 3, reason: 'unknown namespace "fax"; expected one of email, phone, crmId, ecid' },
      { line: 4, reason: '"not-an-email" is not an email address' },
      { line: 5, reason: 'value is empty' },
      { line: 6, reason: 'expected 3 fields, found 2' },
      { line: 7, reason: 'duplicate of line 2 (email ada@example.com)' },
      { line: 8, reason: 'expected 3 fields, found 4' },
    ]);
    expect(result.errorCount).toBe(6);
    expect(await members(store)).toEqual(before);
  });

  it('accepts configured namespaces, streams bytes in small chunks and caps the listed errors', async () => {
    const store = await uploadStore();
    const text = 'Namespace,Value,name\r\nloyaltyId,L-1,Zoé\r\n\r\nloyaltyId,L-2,"Ünïcödé, ""quoted"""\r\n';
    const ok = await importUpload(store, 'aud-up', chunked(text), { namespaces: ['loyaltyId'] });
    expect(ok).toMatchObject({ ok: true, imported: 2 });
    expect((await members(store)).map((m) => m.attributes.name)).toEqual(['Zoé', 'Ünïcödé, "quoted"']);
    const bad = await importUpload(store, 'aud-up', new Blob(['namespace,value\nx,1\ny,2\nz,3\n']), {
      maxErrors: 2,
    });
    expect(bad.errors.map((e) => e.line)).toEqual([2, 3]);
    expect(bad.errorCount).toBe(3);
  });

  it('refuses a wrong header, invalid UTF-8, an unclosed quote and a non-upload audience', async () => {
    const store = await uploadStore();
    expect((await importUpload(store, 'aud-up', 'identity,value\n')).errors).toEqual([
      {
        line: 1,
        reason: 'header: expected the first columns to be "namespace,value", found "identity,value"',
      },
    ]);
    const invalid = new Uint8Array([...new TextEncoder().encode('namespace,value\nemail,a'), 0xff, 0x0a]);
    expect((await importUpload(store, 'aud-up', chunked(invalid))).errors).toEqual([
      { line: 2, reason: 'the file is not valid UTF-8' },
    ]);
    const unclosed = await importUpload(store, 'aud-up', 'namespace,value\nemail,"a@b.c\n');
    expect(unclosed.ok).toBe(false);
    expect(unclosed.errors[0]?.line).toBe(2);
    expect((await importUpload(store, 'aud-up', '')).errors[0]?.reason).toMatch(/file is empty/);
    await store.putAudience({ id: 'aud-rule', name: 'Rule', kind: 'rule', rule: 'true' });
    await expect(importUpload(store, 'aud-rule', 'namespace,value\n')).rejects.toThrow(
      'is not a custom-upload audience',
    );
    expect(await members(store)).toEqual([]);
  });

  it('exports the profiles matching uploaded identities with the upload columns', async () => {
    const store = await uploadStore();
    await store.putProfiles(profiles());
    await importUpload(
      store,
      'aud-up',
      'namespace,value,tier\nemail,ada@example.com,gold\ncrmId,CRM-4,bronze\nemail,nobody@example.com,x\n',
    );
    const plan = planAudienceExport({
      membership: await uploadMembership(streamUploadMembers(store, 'aud-up')),
      profiles: () => streamProfiles(store, 4),
      mapping: compileMapping({
        fields: [
          { source: 'identities.email', target: 'email' },
          { source: 'attributes.person.name', target: 'name' },
          { source: 'upload.tier' },
        ],
        dedup: { identity: 'crmId' },
      }),
      now: new Date('2026-02-01T00:00:00Z'),
      mode: 'full',
      save: async () => {},
    });
    expect(await collectRows(plan.rows)).toEqual([
      { email: 'ada@example.com', name: 'Ada Lovelace', upload_tier: 'gold' },
      { email: null, name: 'Edsger Dijkstra', upload_tier: 'bronze' },
    ]);
    // p005 shares ada@example.com but has no crmId: it is a member skipped for the dedup key.
    expect(plan.stats).toMatchObject({
      evaluated: 6,
      members: 3,
      exported: 2,
      skipped: { 'missing:identities.crmId': 1 },
    });
  });
});
