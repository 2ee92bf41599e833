/**
 * A local-folder sink for the CLI and the quick start. Publication is atomic: bytes go to a hidden
 * temporary file beside the target, which is renamed into place only when complete.
 */
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import * as v from 'valibot';
import { ExportError } from '../../../core/errors.ts';
import { definePlugin } from '../../../core/plugin.ts';
import type { SinkStage } from '../../../core/types.ts';

export const localSinkOptions = v.strictObject({
  /** Folder that plays the role of the bucket. */
  directory: v.pipe(v.string('directory: expected a folder path'), v.minLength(1)),
});

/** Writes objects as files under `directory`, keys mapped to relative paths. */
export function localSink(options: v.InferOutput<typeof localSinkOptions>): SinkStage {
  const root = resolve(options.directory);
  const pathOf = (key: string) => {
    const path = resolve(root, ...key.split('/'));
    if (!path.startsWith(root + sep))
      throw new ExportError('KEY_UNSAFE', `Key "${key}" escapes ${root}`, { plugin: 'sink/local' });
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
      let replaced = false;
      try {
        const handle = await open(temp, 'w');
        try {
          size = await writeAll(handle, file.body);
        } finally {
          await handle.close();
        }
        replaced = await stat(path).then(
          () => true,
          () => false,
        );
        await rename(temp, path);
      } catch (error) {
        await rm(temp, { force: true });
        throw error instanceof ExportError
          ? error
          : new ExportError('SINK_FAILED', `Could not write ${path}: ${(error as Error).message}`, {
              plugin: 'sink/local',
              cause: error,
            });
      }
      return { key: file.key, size, location: path, ...(replaced && { replaced }) };
    },
    async remove(_ctx, key) {
      await rm(pathOf(key), { force: true });
    },
  };
}

/**
 * Bytes gathered before one write. Small chunks (a compressor's ~16 KiB) are copied into one reused
 * buffer rather than held until it fills: a chunk held that long survives two young-generation GCs,
 * is promoted, and its memory then waits for a full GC, which V8 starts only after ~64 MiB of such
 * garbage (peak RSS of identical runs differed by that much: docs/BENCHMARKS.md, memory).
 */
const WRITE_BYTES = 1024 * 1024;

/** Writes the stream into `handle` in ~1 MiB system calls; returns the byte count. */
async function writeAll(handle: FileHandle, body: ReadableStream<Uint8Array>): Promise<number> {
  const buffer = new Uint8Array(WRITE_BYTES);
  let filled = 0;
  let size = 0;
  const flush = async () => {
    await writeFully(handle, buffer.subarray(0, filled));
    filled = 0;
  };
  const reader = body.getReader();
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      const chunk = next.value;
      size += chunk.byteLength;
      if (chunk.byteLength >= WRITE_BYTES / 2) {
        // Large enough for a system call of its own: written as it is, after what is gathered.
        if (filled > 0) await flush();
        await writeFully(handle, chunk);
      } else {
        if (filled + chunk.byteLength > WRITE_BYTES) await flush();
        buffer.set(chunk, filled);
        filled += chunk.byteLength;
      }
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  }
  if (filled > 0) await flush();
  return size;
}

/** `write` until every byte is down: a write may take fewer bytes than it was given. */
async function writeFully(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.byteLength; ) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

export const plugin = definePlugin({
  name: 'sink/local',
  description: 'Writes files into a local folder (atomic rename); Node hosts only',
  options: localSinkOptions,
  create: (options) => localSink(options),
});
