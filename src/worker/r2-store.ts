/**
 * An ObjectStore over an R2 bucket bound to the Worker (wrangler.toml `[[r2_buckets]]`), for snapshot
 * sources whose location is `{type: "r2", binding}`: ranged `get` for Parquet column chunks, `list`
 * paged by cursor, `head` — no credentials (the binding is the permission) and no HTTP. Typed
 * structurally, like the other bindings (env.ts), so the project needs no workers-types.
 */
import { ExportError } from '../core/errors.ts';
import { sourceChanged } from '../core/snapshot/errors.ts';
import type { ObjectInfo, ObjectStore } from '../core/snapshot/types.ts';

interface R2ObjectLike {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}
interface R2ObjectBodyLike extends R2ObjectLike {
  readonly body: ReadableStream<Uint8Array>;
  arrayBuffer(): Promise<ArrayBuffer>;
}
/** R2's conditional get: a failed condition answers the object's metadata without a body. */
interface R2GetOptions {
  range?: { offset: number; length: number };
  onlyIf?: { etagMatches: string };
}

/** The members of workerd's R2Bucket a store calls. */
export interface R2Bucket {
  list(options: { prefix?: string; cursor?: string; limit?: number }): Promise<{ objects: R2ObjectLike[]; truncated: boolean; cursor?: string }>;
  head(key: string): Promise<R2ObjectLike | null>;
  get(key: string, options?: R2GetOptions): Promise<R2ObjectBodyLike | R2ObjectLike | null>;
}

/** True when `value` has the R2Bucket members a store calls. */
export function isR2Bucket(value: unknown): value is R2Bucket {
  if (typeof value !== 'object' || value === null) return false;
  const b = value as Record<string, unknown>;
  return typeof b.get === 'function' && typeof b.head === 'function' && typeof b.list === 'function';
}

/**
 * The ObjectStore of an R2 binding; `binding` names it in messages (`r2://SNAPSHOTS`).
 *
 * @example r2ObjectStore(env.SNAPSHOTS, 'SNAPSHOTS')
 */
export function r2ObjectStore(bucket: R2Bucket, binding: string): ObjectStore {
  const describe = `r2://${binding}`;
  const missing = (key: string) =>
    new ExportError('SOURCE_NOT_FOUND', `No object at ${describe}/${key}: check the source's key (or prefix).`, { stage: 'source', details: { key } });
  const info = (o: R2ObjectLike): ObjectInfo => ({ key: o.key, size: o.size, etag: o.etag });
  const body = (key: string, object: R2ObjectBodyLike | R2ObjectLike | null): R2ObjectBodyLike => {
    if (!object) throw missing(key);
    if (!('body' in object)) throw sourceChanged(describe, key);
    return object;
  };
  return {
    describe,
    async *list(prefix: string): AsyncIterable<ObjectInfo> {
      let cursor: string | undefined;
      do {
        const page = await bucket.list({ prefix, ...(cursor !== undefined && { cursor }) });
        for (const object of page.objects) yield info(object);
        cursor = page.truncated ? page.cursor : undefined;
      } while (cursor !== undefined);
    },
    async head(key: string): Promise<ObjectInfo | undefined> {
      const object = await bucket.head(key);
      return object ? info(object) : undefined;
    },
    async read(key: string, start: number, end: number, etag?: string): Promise<Uint8Array> {
      if (end <= start) return new Uint8Array(0);
      const object = body(key, await bucket.get(key, { range: { offset: start, length: end - start }, ...(etag !== undefined && { onlyIf: { etagMatches: etag } }) }));
      const bytes = new Uint8Array(await object.arrayBuffer());
      if (bytes.length !== end - start) {
        throw new ExportError('SOURCE_INVALID', `${describe}/${key}: asked for bytes ${start}-${end - 1}, got ${bytes.length} bytes (was the object replaced while read?)`, {
          stage: 'source',
          details: { key },
        });
      }
      return bytes;
    },
    async stream(key: string, etag?: string): Promise<ReadableStream<Uint8Array>> {
      return body(key, await bucket.get(key, etag === undefined ? {} : { onlyIf: { etagMatches: etag } })).body;
    },
  };
}

/**
 * The Worker's R2 bindings as snapshot stores, by binding name (what openSnapshotStore's `r2`
 * takes): a name that is not an R2 binding gives undefined.
 *
 * @example openSnapshotStore(location, { platform, registry, r2: r2Stores(env) })
 */
export function r2Stores(env: object): (binding: string) => ObjectStore | undefined {
  return (binding) => {
    const bucket = (env as Record<string, unknown>)[binding];
    return isR2Bucket(bucket) ? r2ObjectStore(bucket, binding) : undefined;
  };
}
