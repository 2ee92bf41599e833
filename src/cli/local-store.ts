/**
 * An ObjectStore over a local folder, for the CLI's snapshot sources (`./lake/crm/` instead of
 * `s3://…`): keys are `/`-separated paths relative to the folder, listed in key order; ranged reads
 * read exactly the bytes asked for. node:fs only (Node and Deno); the Worker never imports it.
 */
import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ExportError } from '../core/errors.ts';
import { sourceChanged } from '../core/snapshot/errors.ts';
import type { ObjectInfo, ObjectStore } from '../core/snapshot/types.ts';

/** Bytes per chunk of a streamed file. */
const CHUNK = 64 * 1024;

/**
 * The store of a folder.
 *
 * @example planSnapshot(localObjectStore('./lake'), { format: 'parquet', prefix: 'crm/' })
 */
export function localObjectStore(folder: string): ObjectStore {
  const root = resolve(folder);
  const path = (key: string): string => {
    const segments = key.split('/');
    if (key.startsWith('/') || key.includes('\\') || segments.some((s) => s === '..' || s === '.')) {
      throw new ExportError('CONFIG_INVALID', `"${key}" is not a key inside ${root}: use a relative path without "." or ".." segments`, { stage: 'source' });
    }
    return join(root, ...segments);
  };
  /** The file open for reading; with `etag`, only while it is that version (its mtime and size). */
  const opened = async (key: string, etag: string | undefined): Promise<FileHandle> => {
    let handle: FileHandle;
    try {
      handle = await open(path(key), 'r');
    } catch (error) {
      throw missing(error, key, root);
    }
    if (etag !== undefined && versionOf(await handle.stat()) !== etag) {
      await handle.close();
      throw sourceChanged(root, key);
    }
    return handle;
  };
  const head = async (key: string): Promise<ObjectInfo | undefined> => {
    try {
      const s = await stat(path(key));
      return s.isFile() ? { key, size: s.size, etag: versionOf(s) } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  };
  return {
    describe: root,
    async *list(prefix: string): AsyncIterable<ObjectInfo> {
      // Walk the folder the prefix is in; keep the keys that start with the prefix.
      const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const keys = (await walk(root, base)).filter((key) => key.startsWith(prefix)).sort();
      for (const key of keys) {
        const info = await head(key);
        if (info) yield info;
      }
    },
    head,
    async read(key: string, start: number, end: number, etag?: string): Promise<Uint8Array> {
      const handle = await opened(key, etag);
      try {
        const bytes = new Uint8Array(Math.max(0, end - start));
        let done = 0;
        while (done < bytes.length) {
          const { bytesRead } = await handle.read(bytes, done, bytes.length - done, start + done);
          if (bytesRead === 0) throw new ExportError('SOURCE_INVALID', `"${key}" ended at byte ${start + done}, before ${end}: was it changed while read?`, { stage: 'source' });
          done += bytesRead;
        }
        return bytes;
      } finally {
        await handle.close();
      }
    },
    async stream(key: string, etag?: string): Promise<ReadableStream<Uint8Array>> {
      const handle = await opened(key, etag);
      let position = 0;
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          const chunk = new Uint8Array(CHUNK);
          const { bytesRead } = await handle.read(chunk, 0, CHUNK, position);
          position += bytesRead;
          if (bytesRead > 0) controller.enqueue(chunk.subarray(0, bytesRead));
          else {
            await handle.close();
            controller.close();
          }
        },
        cancel: () => handle.close(),
      });
    },
  };
}

/** Every file under `root/base`, as keys relative to `root` (a missing folder has none). */
async function walk(root: string, base: string): Promise<string[]> {
  const keys: string[] = [];
  const visit = async (relative: string): Promise<void> => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(relative ? join(root, ...relative.split('/')) : root, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error) || (error as { code?: string }).code === 'ENOTDIR') return;
      throw error;
    }
    for (const entry of entries) {
      const key = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await visit(key);
      else if (entry.isFile()) keys.push(key);
    }
  };
  await visit(base);
  return keys;
}

/** A local file's version: its modification time and size. */
function versionOf(s: { mtimeMs: number; size: number }): string {
  return `${Math.trunc(s.mtimeMs)}-${s.size}`;
}

function isMissing(error: unknown): boolean {
  return (error as { code?: string }).code === 'ENOENT';
}

function missing(error: unknown, key: string, root: string): unknown {
  if (!isMissing(error)) return error;
  return new ExportError('SOURCE_NOT_FOUND', `No file "${key}" in ${root}: check the source's key (or prefix).`, { stage: 'source', cause: error, details: { key } });
}
