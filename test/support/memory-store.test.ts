import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { collect } from '../../src/core/streams.ts';
import { parse } from '../../src/core/validate.ts';
import { MemoryStore } from './memory-store.ts';
import { audienceSchema, datasetSchema, type Profile, profileSchema } from '../../src/core/data/model.ts';
import { type Page, type PageRequest, pages, stateSlot, streamProfiles } from '../../src/core/data/store.ts';

const profile = (id: string): Profile => ({
  id,
  identities: {},
  attributes: {},
  updatedAt: '2026-01-01T00:00:00Z',
});

describe('MemoryStore', () => {
  it('pages profiles by id with an opaque cursor, seeing inserts after the cursor', async () => {
    const store = new MemoryStore();
    await store.putProfiles(['c', 'a', 'e', 'b'].map(profile));
    const first = await store.listProfiles({ limit: 2 });
    expect(first.items.map((p) => p.id)).toEqual(['a', 'b']);
    await store.putProfiles([profile('d'), profile('aa')]);
    const second = await store.listProfiles({ cursor: first.cursor!, limit: 2 });
    expect(second.items.map((p) => p.id)).toEqual(['c', 'd']);
    const third = await store.listProfiles({ cursor: second.cursor!, limit: 2 });
    expect(third).toEqual({ items: [profile('e')] });
  });

  it('streams pages lazily: one page fetched per pull, none before the first read', async () => {
    const calls: PageRequest[] = [];
    const data = Array.from({ length: 7 }, (_, i) => i);
    const read = async (req: PageRequest): Promise<Page<number>> => {
      calls.push(req);
      const start = req.cursor ? Number(req.cursor) : 0;
      const end = start + (req.limit ?? 0);
      return end < data.length
        ? { items: data.slice(start, end), cursor: String(end) }
        : { items: data.slice(start) };
    };
    const stream = pages(read, 3);
    await Promise.resolve();
    expect(calls).toHaveLength(0);
    const reader = stream.getReader();
    expect((await reader.read()).value).toBe(0);
    expect(calls).toHaveLength(1);
    for (let i = 1; i < 3; i++) await reader.read();
    expect(calls).toHaveLength(1);
    await reader.read();
    expect(calls).toHaveLength(2);
    reader.releaseLock();
    expect(await collect(stream)).toEqual([4, 5, 6]);
    expect(calls.map((c) => c.cursor)).toEqual([undefined, '3', '6']);
  });

  it('keeps stored values isolated from callers', async () => {
    const store = new MemoryStore();
    const p = { ...profile('a'), attributes: { n: 1 } };
    await store.putProfiles([p]);
    p.attributes.n = 2;
    const [read] = (await collect(streamProfiles(store))).flat();
    expect(read?.attributes).toEqual({ n: 1 });
  });

  it('orders dataset records by (updatedAt, id) and reads strictly after a watermark', async () => {
    const store = new MemoryStore();
    await store.putDataset({ id: 'ds', name: 'Orders', schema: [{ name: 'n', type: 'integer' }] });
    await store.putDatasetRecords('ds', [
      { id: 'b', updatedAt: '2026-01-02T00:00:00Z', values: { n: 2 } },
      { id: 'a', updatedAt: '2026-01-02T00:00:00Z', values: { n: 1 } },
      { id: 'c', updatedAt: '2026-01-01T00:00:00Z', values: { n: 3 } },
    ]);
    const all = await store.listDatasetRecords('ds', { limit: 10 });
    expect(all.items.map((r) => r.id)).toEqual(['c', 'a', 'b']);
    const after = await store.listDatasetRecords('ds', {
      after: { updatedAt: '2026-01-02T00:00:00Z', id: 'a' },
    });
    expect(after.items.map((r) => r.id)).toEqual(['b']);
    await expect(store.listDatasetRecords('nope', {})).rejects.toThrow('Unknown dataset nope');
  });

  it('stages upload members: invisible until commit, untouched by abort', async () => {
    const store = new MemoryStore();
    const one = await store.writeUploadMembers('aud');
    await one.add([{ namespace: 'email', value: 'a@x.io', attributes: {} }]);
    expect((await store.listUploadMembers('aud', {})).items).toEqual([]);
    expect(await one.commit()).toBe(1);
    const two = await store.writeUploadMembers('aud');
    await two.add([{ namespace: 'email', value: 'b@x.io', attributes: {} }]);
    await two.abort();
    await expect(two.commit()).rejects.toThrow('already committed or aborted');
    expect((await store.listUploadMembers('aud', {})).items.map((m) => m.value)).toEqual(['a@x.io']);
  });

  it('keeps export state per dataflow and subject; a state of another kind counts as none', async () => {
    const store = new MemoryStore();
    const key = { dataflowId: 'df', subjectId: 'x' };
    await store.putExportState(key, { kind: 'dataset', version: 1, exportedAt: '2026-01-01T00:00:00Z' });
    expect((await stateSlot(store, key, 'audience')).previous).toBeUndefined();
    expect((await stateSlot(store, key, 'dataset')).previous?.exportedAt).toBe('2026-01-01T00:00:00Z');
    expect(await store.getExportState({ dataflowId: 'df2', subjectId: 'x' })).toBeUndefined();
  });
});

describe('model schemas', () => {
  it('validate profiles, datasets and audiences with a message per problem', () => {
    expect(() =>
      parse(
        profileSchema,
        { id: '', identities: { email: 'a' }, attributes: [], updatedAt: 'yesterday' },
        'profile',
      ),
    ).toThrow(
      /id: 1–128 characters[\s\S]*identities: expected an array of strings per namespace[\s\S]*attributes: expected an object, received a list[\s\S]*updatedAt: expected an ISO-8601 timestamp/,
    );
    expect(v.is(profileSchema, profile('p-1'))).toBe(true);
    expect(() =>
      parse(datasetSchema, {
        id: 'd',
        name: 'D',
        schema: [
          { name: 'a', type: 'text' },
          { name: 'a', type: 'string' },
        ],
      }),
    ).toThrow(/schema\[0\]\.type: expected string, integer.*, received "text"/);
    expect(() => parse(audienceSchema, { id: 'a', name: 'A', kind: 'rule', rule: ' ' })).toThrow(
      'rule: must not be empty',
    );
    expect(() => parse(audienceSchema, { id: 'a', name: 'A', kind: 'csv' })).toThrow(
      'kind: expected "rule" or "upload"',
    );
    expect(parse(audienceSchema, { id: 'a', name: ' A ', kind: 'upload' })).toEqual({
      id: 'a',
      name: 'A',
      kind: 'upload',
    });
  });
});
