/** An ObjectStore over objects held in memory: for tests, and for embedders that already hold the bytes. */
import { ExportError } from '../errors.ts';
import { sourceChanged } from './errors.ts';
import type { ObjectInfo, ObjectStore } from './types.ts';

/** An in-memory store; `put` replaces an object with a new version (a new etag). */
export interface MemoryObjectStore extends ObjectStore {
  put(key: string, body: Uint8Array | string): void;
}

/**
 * A store over `objects` (key → bytes), listed in key order.
 *
 * @example memoryObjectStore({ 'crm/part-0.parquet': bytes })
 */
export function memoryObjectStore(objects: Readonly<Record<string, Uint8Array | string>>, describe = 'memory://'): MemoryObjectStore {
  const bytes = new Map<string, { body: Uint8Array; version: number }>();
  let versions = 0;
  const put = (key: string, body: Uint8Array | string) => bytes.set(key, { body: typeof body === 'string' ? new TextEncoder().encode(body) : body, version: ++versions });
  for (const [key, body] of Object.entries(objects)) put(key, body);
  const info = (key: string): ObjectInfo => {
    const { body, version } = bytes.get(key)!;
    return { key, size: body.length, etag: `"v${version}"` };
  };
  const get = (key: string, etag: string | undefined): Uint8Array => {
    const object = bytes.get(key);
    if (!object) throw new ExportError('SOURCE_NOT_FOUND', `No object at "${key}": check the source's key (or prefix).`, { stage: 'source', details: { key } });
    if (etag !== undefined && info(key).etag !== etag) throw sourceChanged(describe, key);
    return object.body;
  };
  return {
    describe,
    put,
    async *list(prefix: string) {
      for (const key of [...bytes.keys()].sort()) if (key.startsWith(prefix)) yield info(key);
    },
    head: async (key) => (bytes.has(key) ? info(key) : undefined),
    async read(key, start, end, etag) {
      const body = get(key, etag);
      if (start < 0 || end > body.length || start > end) throw new ExportError('INTERNAL', `range ${start}-${end} is outside "${key}" (${body.length} bytes)`);
      return body.slice(start, end);
    },
    async stream(key, etag) {
      const body = get(key, etag);
      return new ReadableStream({
        start(controller) {
          // In chunks, as a network body comes.
          for (let i = 0; i < body.length; i += 16_384) controller.enqueue(body.slice(i, i + 16_384));
          controller.close();
        },
      });
    },
  };
}
