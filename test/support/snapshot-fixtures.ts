/**
 * Snapshot fixtures: customer-profile rows and their Parquet, NDJSON and CSV bytes, written with
 * hyparquet-writer (an independent writer), for the snapshot reader's unit and S3 tests. Web-only.
 */
import { parquetWriteBuffer } from 'hyparquet-writer';
import { expect } from 'vitest';
import { ExportError } from '../../src/core/errors.ts';
import { planSnapshot } from '../../src/core/snapshot/plan.ts';
import { type ProjectionNeeds, projection } from '../../src/core/snapshot/projection.ts';
import { readUnit } from '../../src/core/snapshot/read.ts';
import type { ObjectStore, SnapshotSource } from '../../src/core/snapshot/types.ts';
import { collect } from '../../src/core/streams.ts';
import type { Row } from '../../src/core/types.ts';

/** What the tests' audience reads: a rule on country, a mapping of person.name deduplicated by email. */
export const customerNeeds: ProjectionNeeds = {
  rules: ['country = "FR"'],
  mappings: [{ fields: [{ source: 'attributes.person.name' }], dedup: { identity: 'email' } }],
};

/** Every row of a snapshot: planned, then each unit read with `columns` (default: what customerNeeds projects). */
export async function readSnapshot(store: ObjectStore, source: SnapshotSource, columns?: string[]): Promise<Row[]> {
  const plan = await planSnapshot(store, source);
  const cols = columns ?? projection(plan.schema, source, customerNeeds);
  const out: Row[] = [];
  for (const unit of plan.units) out.push(...(await collect(readUnit(store, plan, unit, cols))).flat());
  return out;
}

/** The ExportError a promise is refused with. */
export async function refusal(promise: Promise<unknown>): Promise<ExportError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExportError);
  return error as ExportError;
}

export interface CustomerRow {
  id: number;
  updatedAt: Date;
  country: string;
  score: number;
  'person.name': string;
  'identities.email': string;
  /** A wide column no audience reads: the one projection must not fetch. */
  notes: string;
}

/** `count` rows starting at id `first`; notes are wide and incompressible-ish. */
export function customerRows(count: number, first = 1): CustomerRow[] {
  return Array.from({ length: count }, (_, i) => {
    const id = first + i;
    return {
      id,
      updatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, id % 60)),
      country: ['FR', 'US', 'DE'][id % 3]!,
      score: id / 4,
      'person.name': `Person ${id}`,
      'identities.email': `user${id}@example.com`,
      notes: `${id}:${Array.from({ length: 40 }, (_, k) => ((id * 7919 + k * 104729) % 1_000_003).toString(36)).join('')}`,
    };
  });
}

/** The rows as Parquet with `rowGroupSize` rows per group (columns in CustomerRow order). */
export function customerParquet(rows: readonly CustomerRow[], rowGroupSize = 100, extra: { scoreType?: 'DOUBLE' | 'STRING' } = {}): Uint8Array {
  const column = <K extends keyof CustomerRow>(name: K, type: string) => ({ name, data: rows.map((r) => r[name]), type });
  const buffer = parquetWriteBuffer({
    columnData: [
      column('id', 'INT32'),
      column('updatedAt', 'TIMESTAMP'),
      column('country', 'STRING'),
      extra.scoreType === 'STRING' ? { name: 'score', data: rows.map((r) => String(r.score)), type: 'STRING' } : column('score', 'DOUBLE'),
      column('person.name', 'STRING'),
      column('identities.email', 'STRING'),
      column('notes', 'STRING'),
    ] as Parameters<typeof parquetWriteBuffer>[0]['columnData'],
    rowGroupSize,
  });
  return new Uint8Array(buffer);
}

/** The rows as NDJSON (dates as ISO text). */
export function customerNdjson(rows: readonly CustomerRow[]): string {
  return rows.map((r) => JSON.stringify({ ...r, updatedAt: r.updatedAt.toISOString() })).join('\n') + '\n';
}

/** The rows as CSV with a header (no value needs quoting). */
export function customerCsv(rows: readonly CustomerRow[], header = true): string {
  const names = ['id', 'updatedAt', 'country', 'score', 'person.name', 'identities.email', 'notes'] as const;
  const lines = rows.map((r) => names.map((n) => (n === 'updatedAt' ? r.updatedAt.toISOString() : String(r[n]))).join(','));
  return `${[...(header ? [names.join(',')] : []), ...lines].join('\n')}\n`;
}
