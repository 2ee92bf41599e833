/**
 * The storage contract for profiles, datasets, audiences, upload members and export state.
 * Reads are paged (cursor = opaque string, so a SQL store can use keyset pagination) and never
 * return everything at once; `pages()` turns any paged read into a stream that fetches one page
 * per pull (`pageBatches()`: one chunk per page). The in-memory implementation is
 * test/support/memory-store.ts (a test double); the D1 one comes with the Worker.
 */
import type { Audience, Dataset, DatasetRecord, Profile, UploadMember } from './model.ts';

export interface PageRequest {
  /** Opaque cursor from the previous page; absent for the first page. */
  readonly cursor?: string;
  /** Page size; stores clamp it to their own maximum. */
  readonly limit?: number;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Cursor for the next page, or undefined when this was the last one. */
  readonly cursor?: string;
}

/** A point in a dataset's (updatedAt, id) order: incremental exports read strictly after it. */
export interface Watermark {
  readonly updatedAt: string;
  readonly id: string;
}

export interface DatasetPageRequest extends PageRequest {
  /** Only records strictly after this (updatedAt, id) position. */
  readonly after?: Watermark;
}

/**
 * Staged replacement of an upload audience's members: nothing is visible until `commit()`,
 * and `abort()` leaves the previous members untouched (all-or-nothing imports).
 */
export interface UploadWriter {
  add(members: readonly UploadMember[]): Promise<void>;
  /** Atomically replaces the audience's members with everything added; returns the count. */
  commit(): Promise<number>;
  abort(): Promise<void>;
}

/** Export state is remembered per dataflow and subject (audience or dataset id). */
export interface ExportStateKey {
  readonly dataflowId: string;
  readonly subjectId: string;
}

/** The state of the last successful export of an audience (see export-plan.ts). */
export interface AudienceExportState {
  readonly kind: 'audience';
  readonly version: 1;
  /** When the successful run that wrote this state evaluated the audience. */
  readonly exportedAt: string;
  /** Fingerprint of the mapping; a different mapping makes the next run a full export. */
  readonly mappingId: string;
  /** Member key → fingerprint of its exported values: O(members), a few dozen bytes each. */
  readonly members: Readonly<Record<string, string>>;
}

/**
 * The state of an audience's last successful export, kept in chunks by the host: this header names
 * the generation (the run) whose entries (member key → fingerprint, in key order) are current.
 */
export interface ChunkedAudienceState {
  readonly kind: 'audience';
  readonly version: 2;
  readonly exportedAt: string;
  readonly mappingId: string;
  /** Entries in the state. */
  readonly members: number;
  /** The run that wrote the entries. */
  readonly generation: string;
  /** Chunks 0 … chunks-1 hold them (a retried attempt may have left more: they are not read). */
  readonly chunks: number;
}

/** The state of the last successful export of a dataset: the last record position read. */
export interface DatasetExportState {
  readonly kind: 'dataset';
  readonly version: 1;
  readonly exportedAt: string;
  readonly watermark?: Watermark;
}

export type ExportState = AudienceExportState | ChunkedAudienceState | DatasetExportState;

/** Everything the export engine needs from storage. */
export interface DataStore {
  /**
   * Profiles ordered by id. The cursor is the last profile id returned, so a run can resume after
   * any profile id (it is not opaque here, unlike other reads).
   */
  listProfiles(request: PageRequest): Promise<Page<Profile>>;
  getProfile(id: string): Promise<Profile | undefined>;
  /** Inserts or replaces profiles as given (writers set `updatedAt` on every change). */
  putProfiles(profiles: readonly Profile[]): Promise<void>;
  deleteProfile(id: string): Promise<void>;

  getDataset(id: string): Promise<Dataset | undefined>;
  putDataset(dataset: Dataset): Promise<void>;
  putDatasetRecords(datasetId: string, records: readonly DatasetRecord[]): Promise<void>;
  /** Records ordered by (updatedAt, id), optionally strictly after a watermark. */
  listDatasetRecords(datasetId: string, request: DatasetPageRequest): Promise<Page<DatasetRecord>>;

  getAudience(id: string): Promise<Audience | undefined>;
  putAudience(audience: Audience): Promise<void>;
  listAudiences(request: PageRequest): Promise<Page<Audience>>;
  /** Starts a staged replacement of an upload audience's members. */
  writeUploadMembers(audienceId: string): Promise<UploadWriter>;
  listUploadMembers(audienceId: string, request: PageRequest): Promise<Page<UploadMember>>;

  getExportState(key: ExportStateKey): Promise<ExportState | undefined>;
  putExportState(key: ExportStateKey, state: ExportState): Promise<void>;
}

/** Default page size for streamed reads: large enough to amortise a round trip, small in memory. */
export const DEFAULT_PAGE_SIZE = 500;

/**
 * A stream over every item of a paged read, fetching the next page only when the previous one has
 * been consumed (memory holds one page).
 *
 * @example pages((req) => store.listProfiles(req))
 */
export function pages<T>(
  read: (request: PageRequest) => Promise<Page<T>>,
  limit = DEFAULT_PAGE_SIZE,
): ReadableStream<T> {
  let cursor: string | undefined;
  let finished = false;
  return new ReadableStream<T>(
    {
      async pull(controller) {
        // Loop so an empty page with a cursor does not end the stream early.
        while (!finished) {
          const page = await read(cursor === undefined ? { limit } : { cursor, limit });
          cursor = page.cursor;
          finished = cursor === undefined;
          if (page.items.length > 0) {
            for (const item of page.items) controller.enqueue(item);
            return;
          }
        }
        controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Like `pages()`, but one chunk per page (never an empty one): the hot paths read a page with one
 * stream operation instead of one per item.
 *
 * @example pageBatches((req) => store.listProfiles(req))
 */
export function pageBatches<T>(
  read: (request: PageRequest) => Promise<Page<T>>,
  limit = DEFAULT_PAGE_SIZE,
  options: { prefetch?: boolean; after?: string | undefined } = {},
): ReadableStream<readonly T[]> {
  // A keyset cursor is the last key read: resuming after a key starts right there.
  let cursor: string | undefined = options.after;
  let finished = false;
  // With prefetch, the next page is requested as soon as a page arrives, so the store's round trip
  // overlaps the work on the current one (one page ahead in memory).
  let ahead: Promise<Page<T>> | undefined;
  const fetchPage = () => read(cursor === undefined ? { limit } : { cursor, limit });
  return new ReadableStream<readonly T[]>(
    {
      async pull(controller) {
        // Loop so an empty page with a cursor does not end the stream early.
        while (!finished) {
          const page = await (ahead ?? fetchPage());
          ahead = undefined;
          cursor = page.cursor;
          finished = cursor === undefined;
          if (!finished && options.prefetch) {
            ahead = fetchPage();
            // A prefetch that fails is reported by the pull that awaits it, not as unhandled.
            ahead.catch(() => {});
          }
          if (page.items.length > 0) return controller.enqueue(page.items);
        }
        controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

/** Every profile of a store (after profile id `after`), one page (one chunk) at a time. */
export function streamProfiles(
  store: Pick<DataStore, 'listProfiles'>,
  limit = DEFAULT_PAGE_SIZE,
  after?: string,
): ReadableStream<readonly Profile[]> {
  return pageBatches((request) => store.listProfiles(request), limit, { after });
}

/** Every upload member of an audience, one page at a time. */
export function streamUploadMembers(
  store: DataStore,
  audienceId: string,
  limit = DEFAULT_PAGE_SIZE,
): ReadableStream<UploadMember> {
  return pages((request) => store.listUploadMembers(audienceId, request), limit);
}

/** A state slot for one dataflow and subject: the last committed state and how to replace it. */
export interface StateSlot<S extends ExportState> {
  readonly previous: S | undefined;
  save(state: S): Promise<void>;
}

/** The one-object states a `stateSlot` holds, by kind. */
type SlotState<K extends ExportState['kind']> = K extends 'audience' ? AudienceExportState : DatasetExportState;

/**
 * Loads the one-object export state of a dataflow and subject; a state of another kind (or a
 * chunked one, which its host reads itself) counts as none.
 */
export async function stateSlot<K extends ExportState['kind']>(
  store: DataStore,
  key: ExportStateKey,
  kind: K,
): Promise<StateSlot<SlotState<K>>> {
  const found = await store.getExportState(key);
  const previous = found?.kind === kind && found.version === 1 ? (found as SlotState<K>) : undefined;
  return { previous, save: (state) => store.putExportState(key, state) };
}
