import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../test/support/memory-store.ts';
import { compileMapping } from '../core/data/mapping.ts';
import type { Profile } from '../core/data/model.ts';
import { importUpload } from '../core/data/upload.ts';
import { collectRows } from '../core/streams.ts';
import { audienceSubjects, datasetFolder, datasetSubject, utf8Bound } from './subjects.ts';
import { memoryStates } from '../../test/support/memory-states.ts';

const p = (id: string, email: string, tier: string): Profile => ({
  id,
  identities: { email: [email] },
  attributes: { tier },
  updatedAt: '2026-01-01T00:00:00Z',
});

describe('subjects of stored audiences and datasets', () => {
  it('exports rule and upload audiences; states are staged, then promoted together', async () => {
    const store = new MemoryStore();
    await store.putProfiles([p('1', 'a@x.io', 'gold'), p('2', 'b@x.io', 'silver')]);
    await store.putAudience({ id: 'gold', name: 'Gold', kind: 'rule', rule: 'attributes.tier = "gold"' });
    await store.putAudience({ id: 'up', name: 'Upload', kind: 'upload' });
    await importUpload(store, 'up', 'namespace,value\nemail,b@x.io\n');
    const mapping = compileMapping({ fields: [{ source: 'id' }] });
    const { states, committed, staged } = memoryStates();
    const input = { data: store, states, mode: 'incremental' as const, now: new Date('2026-02-01T00:00:00Z'), mapping };
    const subjects = await audienceSubjects({ ...input, audienceIds: ['gold', 'up'] });
    expect(subjects.map((s) => s.audience)).toEqual([
      { id: 'gold', name: 'Gold' },
      { id: 'up', name: 'Upload' },
    ]);
    for (const [subject, id] of [
      [subjects[0]!, '1'],
      [subjects[1]!, '2'],
    ] as const) {
      expect(await collectRows(subject.rows)).toEqual([{ id, segmentMembership_status: 'realized' }]);
      await subject.stage?.();
    }
    expect([...staged.keys()]).toEqual(['gold', 'up']);
    expect(committed.size).toBe(0);
    await states.promote(['gold', 'up']);
    const again = await audienceSubjects({ ...input, audienceIds: ['gold', 'up'] });
    for (const subject of again) expect(await collectRows(subject.rows)).toEqual([]);
    await expect(audienceSubjects({ ...input, audienceIds: ['nope'] })).rejects.toThrow('Audience "nope" no longer exists');
  });

  it('exports a dataset into the reference layout, then only what came after the watermark', async () => {
    const store = new MemoryStore();
    await store.putDataset({ id: 'orders', name: 'Orders', schema: [{ name: 'n', type: 'integer' }] });
    await store.putDatasetRecords('orders', [
      { id: 'a', updatedAt: '2026-01-01T00:00:00Z', values: { n: 1 } },
      { id: 'b', updatedAt: '2026-01-02T00:00:00Z', values: { n: 2 } },
    ]);
    const { states } = memoryStates();
    const input = { data: store, states, mode: 'incremental' as const, now: new Date('2026-02-01T00:00:00Z'), datasetId: 'orders', folderPath: 'exports/' };
    const first = await datasetSubject(input);
    expect(first.folderPath).toBe('exports/%DATASET_ID%/exportTime=%YYYY%%MM%%DD%%HH%%MI%');
    expect(await collectRows(first.rows)).toEqual([{ n: 1 }, { n: 2 }]);
    await first.stage?.();
    await states.promote(['orders']);
    await store.putDatasetRecords('orders', [{ id: 'c', updatedAt: '2026-01-03T00:00:00Z', values: { n: 3 } }]);
    expect(await collectRows((await datasetSubject(input)).rows)).toEqual([{ n: 3 }]);
    await expect(datasetSubject({ ...input, datasetId: 'ds' })).rejects.toThrow('Dataset "ds" no longer exists');
    expect(datasetFolder('')).toBe('%DATASET_ID%/exportTime=%YYYY%%MM%%DD%%HH%%MI%');
  });
});

describe('utf8Bound', () => {
  it('is at least the UTF-8 length of any text, and exact for ASCII', () => {
    const encoder = new TextEncoder();
    for (const text of ['', 'plain ascii, "quoted"', 'é', 'São Paulo', '日本語', '😀 emoji', `${'a'.repeat(1000)}ß`, '\u007f\u0080']) {
      expect(utf8Bound(text)).toBeGreaterThanOrEqual(encoder.encode(text).length);
    }
    expect(utf8Bound('plain ascii')).toBe(11);
  });
});
