/**
 * Testing a snapshot source (POST /v1/sources/{id}/test): plans the snapshot as a run would — lists
 * the files, reads each Parquet footer (two ranged GETs) or CSV header, checks them against the
 * declared schema — over at most the first TEST_MAX_OBJECTS objects listed, so a test stays a
 * handful of requests however big the prefix is. A failure is reported, not thrown: its code and the
 * message saying what to fix (the IAM action the credentials lack, the missing key or empty prefix,
 * the column that does not match).
 */
import { ExportError } from '../core/errors.ts';
import { planSnapshot } from '../core/snapshot/plan.ts';
import type { ObjectInfo, ObjectStore, SnapshotSource } from '../core/snapshot/types.ts';
import type { Schema } from '../core/types.ts';

/** Objects of a prefix a test plans (footers read): a run plans them all. */
export const TEST_MAX_OBJECTS = 20;

export interface SourceTestResult {
  readonly ok: boolean;
  readonly location: string;
  readonly files?: number;
  /** The listing had more objects than the test planned. */
  readonly more?: boolean;
  readonly bytes?: number;
  readonly rows?: number;
  readonly sample?: { key: string; size: number; rows?: number; rowGroups?: number };
  readonly schema?: Schema;
  readonly error?: { code: string; message: string; action?: string };
}

/**
 * Opens the source's store and plans the first objects of its snapshot. `open` may fail too (an
 * R2 binding missing since the source was saved): that is the test's answer as well.
 */
export async function testSnapshot(open: () => Promise<{ source: SnapshotSource; store: ObjectStore }>): Promise<SourceTestResult> {
  let location = '';
  try {
    const { source, store } = await open();
    location = `${store.describe}/${source.key ?? source.prefix ?? ''}`;
    const view = firstObjects(store, TEST_MAX_OBJECTS);
    const plan = await planSnapshot(view.store, source);
    const first = plan.files[0]!;
    const groups = first.rowGroups;
    return {
      ok: true,
      location,
      files: plan.files.length,
      ...(view.more() && { more: true }),
      bytes: plan.bytes,
      ...(plan.rows !== undefined && { rows: plan.rows }),
      sample: {
        key: first.key,
        size: first.size,
        ...(groups && { rows: groups.reduce((a, b) => a + b, 0), rowGroups: groups.length }),
      },
      schema: plan.schema,
    };
  } catch (error) {
    if (!(error instanceof ExportError)) throw error;
    const action = error.details?.action;
    return {
      ok: false,
      location,
      error: { code: error.code, message: error.message, ...(typeof action === 'string' && { action }) },
    };
  }
}

/** The store, its listings cut after `max` objects; `more()` says whether one was cut. */
export function firstObjects(store: ObjectStore, max: number): { store: ObjectStore; more: () => boolean } {
  let cut = false;
  return {
    store: {
      ...store,
      describe: store.describe,
      async *list(prefix: string): AsyncIterable<ObjectInfo> {
        let n = 0;
        for await (const object of store.list(prefix)) {
          if (n === max) {
            cut = true;
            return;
          }
          n += 1;
          yield object;
        }
      },
    },
    more: () => cut,
  };
}
