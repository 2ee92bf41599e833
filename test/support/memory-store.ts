/**
 * An in-memory DataStore for tests and small local runs. It keeps the same ordering and cursor
 * semantics as a SQL store (keyset pagination on a sorted key), and clones values on the way in
 * and out so callers cannot mutate stored data behind its back.
 */
import type { Audience, Dataset, DatasetRecord, Profile, UploadMember } from '../../src/core/data/model.ts';
import {
  DEFAULT_PAGE_SIZE,
  type DataStore,
  type DatasetPageRequest,
  type ExportState,
  type ExportStateKey,
  type Page,
  type PageRequest,
  type UploadWriter,
} from '../../src/core/data/store.ts';

const MAX_PAGE = 10_000;

/** A sorted view over a map, rebuilt lazily after writes. */
class SortedIndex<T> {
  readonly byId = new Map<string, T>();
  private sorted: T[] | undefined;

  constructor(private readonly compare: (a: T, b: T) => number) {}

  set(id: string, value: T): void {
    this.byId.set(id, value);
    this.sorted = undefined;
  }

  delete(id: string): void {
    if (this.byId.delete(id)) this.sorted = undefined;
  }

  /** Items strictly after `probe` in sort order (all items when probe is undefined). */
  after(probe: T | undefined, limit: number): { items: T[]; more: boolean } {
    this.sorted ??= [...this.byId.values()].sort(this.compare);
    const all = this.sorted;
    let lo = 0;
    if (probe !== undefined) {
      let hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.compare(all[mid]!, probe) <= 0) lo = mid + 1;
        else hi = mid;
      }
    }
    const items = all.slice(lo, lo + limit);
    return { items, more: lo + limit < all.length };
  }
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byId = (a: { id: string }, b: { id: string }) => byString(a.id, b.id);
const byUpdated = (a: DatasetRecord, b: DatasetRecord) => byString(a.updatedAt, b.updatedAt) || byId(a, b);
const memberKey = (m: UploadMember) => `${m.namespace}\u0000${m.value}`;

function clamp(limit: number | undefined): number {
  return Math.max(1, Math.min(limit ?? DEFAULT_PAGE_SIZE, MAX_PAGE));
}

function encodeCursor(value: unknown): string {
  return btoa(encodeURIComponent(JSON.stringify(value)));
}

function decodeCursor<T>(cursor: string | undefined): T | undefined {
  if (cursor === undefined) return undefined;
  return JSON.parse(decodeURIComponent(atob(cursor))) as T;
}

/** Pages over a sorted index with an opaque cursor holding the last item's sort key. */
function page<T, K>(
  index: SortedIndex<T>,
  request: PageRequest,
  key: (item: T) => K,
  probe: (k: K) => T,
  start?: T,
): Page<T> {
  const last = decodeCursor<K>(request.cursor);
  const from = last === undefined ? start : probe(last);
  const { items, more } = index.after(from, clamp(request.limit));
  const tail = items[items.length - 1];
  const out = items.map((item) => structuredClone(item));
  return more && tail !== undefined ? { items: out, cursor: encodeCursor(key(tail)) } : { items: out };
}

/** In-memory DataStore (tests, examples, small local exports). */
export class MemoryStore implements DataStore {
  private readonly profiles = new SortedIndex<Profile>(byId);
  private readonly datasets = new Map<string, Dataset>();
  private readonly records = new Map<string, SortedIndex<DatasetRecord>>();
  private readonly audiences = new SortedIndex<Audience>(byId);
  private readonly uploads = new Map<string, SortedIndex<UploadMember & { id: string }>>();
  private readonly states = new Map<string, ExportState>();

  /** Profiles by id; as in every store, the cursor is the last profile id returned. */
  async listProfiles(request: PageRequest): Promise<Page<Profile>> {
    const from = request.cursor === undefined ? undefined : ({ id: request.cursor } as Profile);
    const { items, more } = this.profiles.after(from, clamp(request.limit));
    const tail = items[items.length - 1];
    const out = items.map((item) => structuredClone(item));
    return more && tail !== undefined ? { items: out, cursor: tail.id } : { items: out };
  }

  async getProfile(id: string): Promise<Profile | undefined> {
    const found = this.profiles.byId.get(id);
    return found && structuredClone(found);
  }

  async putProfiles(profiles: readonly Profile[]): Promise<void> {
    for (const p of profiles) this.profiles.set(p.id, structuredClone(p));
  }

  async deleteProfile(id: string): Promise<void> {
    this.profiles.delete(id);
  }

  async getDataset(id: string): Promise<Dataset | undefined> {
    const found = this.datasets.get(id);
    return found && structuredClone(found);
  }

  async putDataset(dataset: Dataset): Promise<void> {
    this.datasets.set(dataset.id, structuredClone(dataset));
    if (!this.records.has(dataset.id)) this.records.set(dataset.id, new SortedIndex(byUpdated));
  }

  async putDatasetRecords(datasetId: string, records: readonly DatasetRecord[]): Promise<void> {
    const index = this.records.get(datasetId);
    if (!index) throw new Error(`Unknown dataset ${datasetId}`);
    for (const r of records) index.set(r.id, structuredClone(r));
  }

  async listDatasetRecords(datasetId: string, request: DatasetPageRequest): Promise<Page<DatasetRecord>> {
    const index = this.records.get(datasetId);
    if (!index) throw new Error(`Unknown dataset ${datasetId}`);
    const start = request.after && ({ ...request.after, values: {} } as DatasetRecord);
    return page(
      index,
      request,
      (r) => [r.updatedAt, r.id] as const,
      ([updatedAt, id]) => ({ id, updatedAt, values: {} }),
      start,
    );
  }

  async getAudience(id: string): Promise<Audience | undefined> {
    const found = this.audiences.byId.get(id);
    return found && structuredClone(found);
  }

  async putAudience(audience: Audience): Promise<void> {
    this.audiences.set(audience.id, structuredClone(audience));
  }

  async listAudiences(request: PageRequest): Promise<Page<Audience>> {
    return page(
      this.audiences,
      request,
      (a) => a.id,
      (id) => ({ id }) as Audience,
    );
  }

  async writeUploadMembers(audienceId: string): Promise<UploadWriter> {
    let staged: SortedIndex<UploadMember & { id: string }> | undefined = new SortedIndex<
      UploadMember & { id: string }
    >(byId);
    const open = () => {
      if (!staged) throw new Error('Upload writer already committed or aborted');
      return staged;
    };
    return {
      add: async (members) => {
        const index = open();
        for (const m of members) index.set(memberKey(m), { ...structuredClone(m), id: memberKey(m) });
      },
      commit: async () => {
        const index = open();
        this.uploads.set(audienceId, index);
        staged = undefined;
        return index.byId.size;
      },
      abort: async () => {
        staged = undefined;
      },
    };
  }

  async listUploadMembers(audienceId: string, request: PageRequest): Promise<Page<UploadMember>> {
    const index = this.uploads.get(audienceId);
    if (!index) return { items: [] };
    const result = page(
      index,
      request,
      (m) => m.id,
      (id) => ({ id }) as UploadMember & { id: string },
    );
    const items = result.items.map(({ namespace, value, attributes }) => ({ namespace, value, attributes }));
    return result.cursor === undefined ? { items } : { items, cursor: result.cursor };
  }

  async getExportState(key: ExportStateKey): Promise<ExportState | undefined> {
    const found = this.states.get(stateKey(key));
    return found && structuredClone(found);
  }

  async putExportState(key: ExportStateKey, state: ExportState): Promise<void> {
    this.states.set(stateKey(key), structuredClone(state));
  }
}

function stateKey(key: ExportStateKey): string {
  return `${key.dataflowId}\u0000${key.subjectId}`;
}
