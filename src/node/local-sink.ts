/**
 * A local-folder sink for the CLI and the quick start. Publication is atomic: bytes go to a hidden
 * temporary file beside the target, which is renamed into place only when complete.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
      const counted = file.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            size += chunk.byteLength;
            controller.enqueue(chunk);
          },
        }),
      );
      try {
        await pipeline(Readable.fromWeb(counted as import('node:stream/web').ReadableStream), createWriteStream(temp));
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

export const plugin = definePlugin({
  name: 'sink/local',
  description: 'Writes files into a local folder (atomic rename); Node hosts only',
  options: localSinkOptions,
  create: (options) => localSink(options),
});
