/** An ObjectStore over objects held in memory: for tests, and for embedders that already hold the bytes. */
import { ExportError } from '../errors.ts';
import type { ObjectInfo, ObjectStore } from './types.ts';

/**
 * A store over `objects` (key → bytes), listed in key order; `list` pages by `pageSize` as a
 * real store would.
 *
 * @example memoryObjectStore({ 'crm/part-0.parquet': bytes })
 */
export function memoryObjectStore(objects: Readonly<Record<string, Uint8Array | string>>, describe = 'memory://'): ObjectStore {
  const bytes = new Map(Object.entries(objects).map(([key, value]) => [key, typeof value === 'string' ? new TextEncoder().encode(value) : value]));
  const info = (key: string, body: Uint8Array): ObjectInfo => ({ key, size: body.length, etag: `"${body.length}"` });
  const get = (key: string): Uint8Array => {
    const body = bytes.get(key);
    if (!body) throw new ExportError('SOURCE_NOT_FOUND', `No object at "${key}": check the source's key (or prefix).`, { stage: 'source', details: { key } });
    return body;
  };
  return {
    describe,
    async *list(prefix: string) {
      for (const key of [...bytes.keys()].sort()) if (key.startsWith(prefix)) yield info(key, bytes.get(key)!);
    },
    head: async (key) => (bytes.has(key) ? info(key, bytes.get(key)!) : undefined),
    async read(key, start, end) {
      const body = get(key);
      if (start < 0 || end > body.length || start > end) throw new ExportError('INTERNAL', `range ${start}-${end} is outside "${key}" (${body.length} bytes)`);
      return body.slice(start, end);
    },
    async stream(key) {
      const body = get(key);
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
