/**
 * An ObjectStore over an R2 bucket bound to the Worker (wrangler.toml `[[r2_buckets]]`): list, head
 * and ranged reads through the binding, with no credentials and no HTTP. Typed structurally, like the
 * other bindings (env.ts), so the project needs no workers-types.
 */
import { ExportError } from '../core/errors.ts';
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

/** The members of workerd's R2Bucket a store calls. */
export interface R2Bucket {
  list(options: { prefix?: string; cursor?: string; limit?: number }): Promise<{ objects: R2ObjectLike[]; truncated: boolean; cursor?: string }>;
  head(key: string): Promise<R2ObjectLike | null>;
  get(key: string, options?: { range?: { offset: number; length: number } }): Promise<R2ObjectBodyLike | null>;
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
    async read(key: string, start: number, end: number): Promise<Uint8Array> {
      if (end <= start) return new Uint8Array(0);
      const object = await bucket.get(key, { range: { offset: start, length: end - start } });
      if (!object) throw missing(key);
      return new Uint8Array(await object.arrayBuffer());
    },
    async stream(key: string): Promise<ReadableStream<Uint8Array>> {
      const object = await bucket.get(key);
      if (!object) throw missing(key);
      return object.body;
    },
  };
}
