/**
 * A local-folder sink for the CLI and the quick start. Publication is atomic: bytes go to a hidden
 * temporary file beside the target, which is renamed into place only when complete.
 */
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import * as v from 'valibot';
import { ExportError } from '../core/errors.ts';
import { definePlugin } from '../core/plugin.ts';
import type { SinkStage } from '../core/types.ts';

export const localSinkOptions = v.strictObject({
  /** Folder that plays the role of the bucket. */
  directory: v.pipe(v.string('directory: expected a folder path'), v.minLength(1)),
});

/** Writes objects as files under `directory`, keys mapped to relative paths. */
export function localSink(options: v.InferOutput<typeof localSinkOptions>): SinkStage {
  const root = resolve(options.directory);
  const pathOf = (key: string) => {
    const path = resolve(root, ...key.split('/'));
    if (!path.startsWith(root + sep)) throw new ExportError('KEY_UNSAFE', `Key "${key}" escapes ${root}`, { plugin: 'sink/local' });
    return path;
  };
  return {
    kind: 'sink',
    name: 'local',
    async write(ctx, file) {
      const path = pathOf(file.key);
      await mkdir(dirname(path), { recursive: true });
      const temp = join(dirname(path), `.${ctx.uuid()}.partial`);
      let size = 0;
      try {
        const handle = await open(temp, 'w');
        try {
          size = await writeAll(handle, file.body);
        } finally {
          await handle.close();
        }
        await rename(temp, path);
      } catch (error) {
        await rm(temp, { force: true });
        throw error instanceof ExportError
          ? error
          : new ExportError('SINK_FAILED', `Could not write ${path}: ${(error as Error).message}`, { plugin: 'sink/local', cause: error });
      }
      return { key: file.key, size, location: path };
    },
    async remove(_ctx, key) {
      await rm(pathOf(key), { force: true });
    },
  };
}

/** Bytes gathered before one `writev`: 64 KiB format chunks become ~1 MiB system calls. */
const WRITE_BYTES = 1024 * 1024;

/** Writes the stream into `handle` with few system calls and no copies; returns the byte count. */
async function writeAll(handle: FileHandle, body: ReadableStream<Uint8Array>): Promise<number> {
  let size = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    const chunks = pending;
    pending = [];
    pendingBytes = 0;
    await handle.writev(chunks);
  };
  const reader = body.getReader();
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      size += next.value.byteLength;
      pending.push(next.value);
      pendingBytes += next.value.byteLength;
      if (pendingBytes >= WRITE_BYTES || pending.length >= 1024) await flush();
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  }
  if (pending.length > 0) await flush();
  return size;
}

export const plugin = definePlugin({
  name: 'sink/local',
  description: 'Writes files into a local folder (atomic rename); Node hosts only',
  options: localSinkOptions,
  create: (options) => localSink(options),
});
