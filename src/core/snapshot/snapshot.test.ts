import { parquetMetadata } from 'hyparquet/src/index.js';
import { describe, expect, it } from 'vitest';
import { customerCsv, customerNdjson, customerNeeds, customerParquet, customerRows, readSnapshot, refusal } from '../../../test/support/snapshot-fixtures.ts';
import { collect, collectBytes, fromRows } from '../streams.ts';
import type { Schema } from '../types.ts';
import { parquet } from '../../plugins/format/parquet/index.ts';
import { formatContext } from '../../../test/support/memory-sink.ts';
import { memoryObjectStore } from './memory-store.ts';
import { planSnapshot } from './plan.ts';
import { projection } from './projection.ts';
import { readUnit, snapshotProfiles } from './read.ts';
import type { ObjectStore, ReadStats, SnapshotSource } from './types.ts';

const rows = customerRows(350);
const first = customerParquet(rows.slice(0, 250));
const second = customerParquet(rows.slice(250));
const needs = customerNeeds;

/** A store recording every ranged read. */
function recording(store: ObjectStore): { store: ObjectStore; reads: { key: string; start: number; end: number }[] } {
  const reads: { key: string; start: number; end: number }[] = [];
  return {
    reads,
    store: {
      ...store,
      list: (p) => store.list(p),
      head: (k) => store.head(k),
      stream: (k) => store.stream(k),
      read: (key, start, end) => {
        reads.push({ key, start, end });
        return store.read(key, start, end);
      },
    },
  };
}



describe('planSnapshot', () => {
  it('lists the files of the format under the prefix, reads each footer in two ranged reads, cuts row-group units', async () => {
    const { store, reads } = recording(
      memoryObjectStore({ 'crm/a.parquet': first, 'crm/b.parquet': second, 'crm/_SUCCESS': '', 'crm/readme.txt': 'hi', 'other/c.parquet': first }),
    );
    const plan = await planSnapshot(store, { format: 'parquet', prefix: 'crm/', rowsPerTask: 200 });
    expect(plan.files.map((f) => [f.key, f.rowGroups])).toEqual([
      ['crm/a.parquet', [100, 100, 50]],
      ['crm/b.parquet', [100]],
    ]);
    expect(plan.units).toEqual([
      { file: 0, rowGroups: [0, 2], rows: 200 },
      { file: 0, rowGroups: [2, 3], rows: 50 },
      { file: 1, rowGroups: [0, 1], rows: 100 },
    ]);
    expect(plan.rows).toBe(350);
    expect(plan.bytes).toBe(first.length + second.length);
    expect(plan.schema.map((c) => `${c.name}:${String(c.type)}`)).toEqual([
      'id:integer',
      'updatedAt:timestamp',
      'country:string',
      'score:double',
      'person.name:string',
      'identities.email:string',
      'notes:string',
    ]);
    expect(reads.map((r) => [r.key, r.end - r.start])).toEqual([
      ['crm/a.parquet', 8],
      ['crm/a.parquet', new DataView(first.buffer).getUint32(first.length - 8, true)],
      ['crm/b.parquet', 8],
      ['crm/b.parquet', new DataView(second.buffer).getUint32(second.length - 8, true)],
    ]);
  });

  it('keeps a row group bigger than rowsPerTask whole', async () => {
    const plan = await planSnapshot(memoryObjectStore({ 'a.parquet': first }), { format: 'parquet', key: 'a.parquet', rowsPerTask: 30 });
    expect(plan.units).toEqual([
      { file: 0, rowGroups: [0, 1], rows: 100 },
      { file: 0, rowGroups: [1, 2], rows: 100 },
      { file: 0, rowGroups: [2, 3], rows: 50 },
    ]);
  });

  it('refuses a missing key and an empty prefix, naming them and the format', async () => {
    const store = memoryObjectStore({ 'crm/a.csv': 'id\n1\n' }, 's3://lake');
    const missing = await refusal(planSnapshot(store, { format: 'parquet', key: 'crm/a.parquet' }));
    expect(missing.code).toBe('SOURCE_NOT_FOUND');
    expect(missing.message).toBe("No parquet object at s3://lake/crm/a.parquet: check the source's key.");
    const empty = await refusal(planSnapshot(store, { format: 'parquet', prefix: 'crm/' }));
    expect(empty.code).toBe('SOURCE_NOT_FOUND');
    expect(empty.message).toBe("No parquet files under s3://lake/crm/: check the source's prefix and format.");
  });

  it('refuses files whose schemas differ, naming the file, the column, expected and found', async () => {
    const other = customerParquet(rows.slice(0, 10), 100, { scoreType: 'STRING' });
    const store = memoryObjectStore({ 'crm/a.parquet': first, 'crm/b.parquet': other });
    const across = await refusal(planSnapshot(store, { format: 'parquet', prefix: 'crm/' }));
    expect(across.code).toBe('SOURCE_INVALID');
    expect(across.message).toBe('Snapshot schema mismatch: "crm/b.parquet": column "score" is string, expected double as in the first file "crm/a.parquet".');
    const declared = await refusal(
      planSnapshot(memoryObjectStore({ 'crm/a.parquet': first }), {
        format: 'parquet',
        prefix: 'crm/',
        schema: [
          { name: 'id', type: 'integer' },
          { name: 'segment', type: 'string' },
        ],
      }),
    );
    expect(declared.message).toMatch(/^Snapshot schema mismatch: "crm\/a.parquet" has no column "segment" \(string\), which the declared schema has; it has: id, updatedAt/);
  });
});

describe('projection', () => {
  it('names the id and update columns, the attributes rules and mappings read (with nested columns), and identities', () => {
    const schema = [
      { name: 'id', type: 'integer' },
      { name: 'updatedAt', type: 'timestamp' },
      { name: 'country', type: 'string' },
      { name: 'person', type: 'string' },
      { name: 'person.name', type: 'string' },
      { name: 'personal', type: 'string' },
      { name: 'identities.email', type: 'string' },
      { name: 'identities.phone', type: 'string' },
      { name: 'notes', type: 'string' },
    ] as const;
    expect(projection(schema, {}, needs)).toEqual(['id', 'updatedAt', 'country', 'person', 'person.name', 'identities.email']);
    expect(projection([...schema, { name: 'identities', type: 'string' }, { name: 'attributes', type: 'string' }], {}, { rules: ['x = 1'] })).toEqual([
      'id',
      'updatedAt',
      'attributes',
    ]);
    expect(projection(schema, { idColumn: 'notes' }, { rules: ['score > 3'] })).toEqual(['updatedAt', 'notes']);
  });
});

describe('readUnit (Parquet)', () => {
  it('fetches only the projected column chunks of the unit’s row groups, coalescing adjacent ones', async () => {
    const { store, reads } = recording(memoryObjectStore({ 'a.parquet': first }));
    const source: SnapshotSource = { format: 'parquet', key: 'a.parquet', rowsPerTask: 100 };
    const plan = await planSnapshot(store, source);
    const columns = projection(plan.schema, source, needs);
    expect(columns).toEqual(['id', 'updatedAt', 'country', 'person.name', 'identities.email']);
    reads.length = 0;
    const stats: ReadStats = { bytesFetched: 0, requests: 0, rows: 0 };
    const got = (await collect(readUnit(store, plan, plan.units[1]!, columns, stats))).flat();
    expect(got).toEqual(
      rows.slice(100, 200).map((r) => ({ id: r.id, updatedAt: r.updatedAt, country: r.country, 'person.name': r['person.name'], 'identities.email': r['identities.email'] })),
    );
    // The chunks of row group 1, from the footer: what a projected read must and must not touch.
    const footer = parquetMetadata(first.buffer as ArrayBuffer);
    const chunks = footer.row_groups[1]!.columns.map((c) => {
      const start = Number(c.meta_data!.dictionary_page_offset ?? c.meta_data!.data_page_offset);
      return { name: c.meta_data!.path_in_schema[0]!, start, end: start + Number(c.meta_data!.total_compressed_size) };
    });
    const data = reads.slice(2); // after the footer's two
    const touches = (c: { start: number; end: number }) => data.some((r) => r.start < c.end && c.start < r.end);
    const projected = chunks.filter((c) => columns.includes(c.name));
    // Every projected chunk is fetched; an unprojected one only as a small gap (≤ 8 KiB) between
    // two projected ones, fetched with them; notes (the widest chunk) never.
    for (const chunk of projected) expect(data.some((r) => r.start <= chunk.start && chunk.end <= r.end)).toBe(true);
    for (const chunk of chunks.filter((c) => !columns.includes(c.name) && touches(c))) {
      expect(chunk.end - chunk.start).toBeLessThanOrEqual(8192);
      expect(projected.some((c) => c.end <= chunk.start) && projected.some((c) => c.start >= chunk.end)).toBe(true);
    }
    expect(touches(chunks.find((c) => c.name === 'notes')!)).toBe(false);
    // id … identities.email lie together: one ranged read.
    expect(data).toHaveLength(1);
    const spanned = projected.at(-1)!.end - projected[0]!.start;
    expect(data[0]).toEqual({ key: 'a.parquet', start: projected[0]!.start, end: projected.at(-1)!.end });
    expect(stats).toEqual({ requests: 3, bytesFetched: 8 + (reads[1]!.end - reads[1]!.start) + spanned, rows: 100 });
    expect(spanned).toBeLessThan(first.length / 6);
  });

  it('reads every row of every unit across files, typed as the source plugin does', async () => {
    const store = memoryObjectStore({ 'crm/a.parquet': first, 'crm/b.parquet': second });
    const got = await readSnapshot(store, { format: 'parquet', prefix: 'crm/', rowsPerTask: 150 }, ['id', 'score', 'updatedAt']);
    expect(got).toEqual(rows.map((r) => ({ id: r.id, score: r.score, updatedAt: r.updatedAt })));
  });

  it('adds Hive partition columns, unescaped, and can project them', async () => {
    const store = memoryObjectStore({
      'lake/market=EU/region=%C3%8Ele%2Fde/part-0.parquet': customerParquet(rows.slice(0, 5)),
      'lake/market=NA/region=__HIVE_DEFAULT_PARTITION__/part-0.parquet': customerParquet(rows.slice(5, 7)),
    });
    const source: SnapshotSource = { format: 'parquet', prefix: 'lake/', hivePartitioning: true };
    const plan = await planSnapshot(store, source);
    expect(plan.files.map((f) => f.partition)).toEqual([
      { market: 'EU', region: 'Île/de' },
      { market: 'NA', region: '__HIVE_DEFAULT_PARTITION__' },
    ]);
    expect(plan.schema.slice(-2)).toEqual([
      { name: 'market', type: 'string', nullable: true },
      { name: 'region', type: 'string', nullable: true },
    ]);
    expect((await collect(readUnit(store, plan, plan.units[0]!, ['id', 'market', 'region']))).flat()).toEqual(
      rows.slice(0, 5).map((r) => ({ id: r.id, market: 'EU', region: 'Île/de' })),
    );
    expect((await collect(readUnit(store, plan, plan.units[1]!, ['id', 'region']))).flat()).toEqual([
      { id: 6, region: null },
      { id: 7, region: null },
    ]);
  });

  it('refuses a Hive column that the files also have', async () => {
    const store = memoryObjectStore({ 'lake/country=FR/part-0.parquet': customerParquet(rows.slice(0, 5)) });
    // customer files have a country column of their own
    const error = await refusal(planSnapshot(store, { format: 'parquet', prefix: 'lake/', hivePartitioning: true }));
    expect(error.message).toMatch(/column "country" is both in the files and a Hive partition folder/);
  });
});

describe('readUnit (NDJSON, CSV)', () => {
  it('streams an NDJSON file per unit, keeping the projected keys', async () => {
    const store = memoryObjectStore({ 'crm/a.ndjson': customerNdjson(rows.slice(0, 3)), 'crm/b.jsonl': customerNdjson(rows.slice(3, 5)) });
    const plan = await planSnapshot(store, { format: 'ndjson', prefix: 'crm/' });
    expect(plan.units).toEqual([{ file: 0 }, { file: 1 }]);
    const got = await readSnapshot(store, { format: 'ndjson', prefix: 'crm/' });
    expect(got).toEqual(
      rows.slice(0, 5).map((r) => ({
        id: r.id,
        updatedAt: r.updatedAt.toISOString(),
        country: r.country,
        'person.name': r['person.name'],
        'identities.email': r['identities.email'],
      })),
    );
  });

  it('reads CSV by its header, or as the declared columns (typed) without one', async () => {
    const store = memoryObjectStore({ 'a.csv': customerCsv(rows.slice(0, 3)), 'b.csv': customerCsv(rows.slice(0, 2), false) });
    const plan = await planSnapshot(store, { format: 'csv', key: 'a.csv' });
    expect(plan.schema.map((c) => c.name)).toEqual(['id', 'updatedAt', 'country', 'score', 'person.name', 'identities.email', 'notes']);
    expect(await readSnapshot(store, { format: 'csv', key: 'a.csv' }, ['id', 'score'])).toEqual(rows.slice(0, 3).map((r) => ({ id: String(r.id), score: String(r.score) })));
    const declared: SnapshotSource = {
      format: 'csv',
      key: 'b.csv',
      csv: { header: false },
      schema: ['id', 'updatedAt', 'country', 'score', 'person.name', 'identities.email', 'notes'].map((name) => ({
        name,
        type: name === 'id' ? 'integer' : name === 'score' ? 'double' : 'string',
      })),
    };
    expect(await readSnapshot(store, declared, ['id', 'score', 'country'])).toEqual(rows.slice(0, 2).map((r) => ({ id: r.id, country: r.country, score: r.score })));
  });

  it('refuses a CSV header that does not end within the head it reads', async () => {
    const store = memoryObjectStore({ 'wide.csv': `${'x'.repeat(70_000)}\n1\n` });
    const error = await refusal(planSnapshot(store, { format: 'csv', key: 'wide.csv' }));
    expect(error.message).toBe('"wide.csv": the CSV header is longer than 64 KiB (no line break in the first 65536 bytes); is it CSV?');
  });

  it('refuses a CSV file whose header lacks a column of the first one', async () => {
    const store = memoryObjectStore({ 'crm/a.csv': 'id,email\n1,a@x\n', 'crm/b.csv': 'id,mail\n2,b@x\n' });
    const error = await refusal(planSnapshot(store, { format: 'csv', prefix: 'crm/' }));
    expect(error.message).toBe('Snapshot schema mismatch: "crm/b.csv" has no column "email" (string), which the first file "crm/a.csv" has; it has: id, mail.');
  });
});

describe('a snapshot replaced after planning', () => {
  it('is refused by the units that would read the new version, naming the object', async () => {
    const store = memoryObjectStore({ 'crm/a.parquet': first, 'crm/b.ndjson': customerNdjson(rows.slice(0, 3)) }, 's3://lake');
    const parquetPlan = await planSnapshot(store, { format: 'parquet', prefix: 'crm/' });
    const ndjsonPlan = await planSnapshot(store, { format: 'ndjson', prefix: 'crm/' });
    store.put('crm/a.parquet', second);
    store.put('crm/b.ndjson', customerNdjson(rows.slice(3, 6)));
    for (const [plan, key] of [
      [parquetPlan, 'crm/a.parquet'],
      [ndjsonPlan, 'crm/b.ndjson'],
    ] as const) {
      const error = await refusal(collect(readUnit(store, plan, plan.units[0]!, ['id'])));
      expect([error.code, error.message]).toEqual(['SOURCE_CHANGED', `s3://lake/${key} was replaced since the run was planned: run the export again (it plans the snapshot afresh).`]);
    }
  });
});

describe('snapshotProfiles', () => {
  it('reads a profile-shaped Parquet snapshot (identities and attributes structs)', async () => {
    const schema: Schema = [
      { name: 'id', type: 'string' },
      { name: 'identities', type: { struct: [{ name: 'email', type: { list: 'string' } }] } },
      { name: 'attributes', type: { struct: [{ name: 'country', type: 'string' }, { name: 'notes', type: 'string' }] } },
      { name: 'updatedAt', type: 'timestamp' },
      { name: 'padding', type: 'string' },
    ];
    const shaped = rows.slice(0, 3).map((r) => ({
      id: `p${r.id}`,
      identities: { email: [r['identities.email']] },
      attributes: { country: r.country, notes: r.notes },
      updatedAt: r.updatedAt,
      padding: r.notes,
    }));
    const bytes = await collectBytes(fromRows(shaped).pipeThrough(parquet().open(formatContext(schema))));
    const store = memoryObjectStore({ 'p.parquet': bytes });
    const source: SnapshotSource = { format: 'parquet', key: 'p.parquet' };
    const plan = await planSnapshot(store, source);
    const columns = projection(plan.schema, source, needs);
    expect(columns).toEqual(['id', 'identities', 'attributes', 'updatedAt']);
    const profiles = (await collect(snapshotProfiles(readUnit(store, plan, plan.units[0]!, columns), source))).flat();
    expect(profiles).toEqual(shaped.map(({ padding: _, updatedAt, ...p }) => ({ ...p, updatedAt: updatedAt.toISOString() })));
  });

  it('turns projected rows into profiles: id, update time, nested attributes, identities', async () => {
    const store = memoryObjectStore({ 'a.parquet': customerParquet(rows.slice(0, 2)) });
    const source: SnapshotSource = { format: 'parquet', key: 'a.parquet' };
    const plan = await planSnapshot(store, source);
    const profiles = (await collect(snapshotProfiles(readUnit(store, plan, plan.units[0]!, projection(plan.schema, source, needs)), source))).flat();
    expect(profiles).toEqual(
      rows.slice(0, 2).map((r) => ({
        id: String(r.id),
        updatedAt: r.updatedAt.toISOString(),
        identities: { email: [r['identities.email']] },
        attributes: { country: r.country, person: { name: r['person.name'] } },
      })),
    );
  });
});
