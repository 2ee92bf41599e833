import * as v from 'valibot';
import { definePlugin } from '../../../core/plugin.ts';
import type { WasmSource } from '../../../core/platform.ts';
import type { CompressionStage } from '../../../core/types.ts';
import { parse } from '../../../core/validate.ts';
import { compressionLevel } from '../level.ts';
import { type ZstdCompress, ZSTD_WASM_PATH, zstdCodec } from '../../zstd-wasm.ts';

/** Options of `compression/zstd`: the zstd level, the same on every host. */
export const zstdOptions = v.optional(
  v.strictObject({
    /**
     * zstd level 1–19 (default 3). Each level up costs time and, past 9, wasm memory: about 16 MB up
     * to level 9, 49 MB at 12, 73 MB at 15 (see docs/COMPRESSION.md).
     */
    level: v.optional(compressionLevel('zstd', 1, 19)),
  }),
  {},
);
export type ZstdOptions = v.InferInput<typeof zstdOptions>;

/** What zstd takes from the host: the zstd wasm (see Platform.zstdWasm), and its name for messages. */
export interface ZstdHost {
  readonly name?: string;
  zstdWasm?(): Promise<WasmSource>;
}

/** zstd's own default level. */
export const DEFAULT_LEVEL = 3;

/**
 * Uncompressed bytes per zstd frame. Each frame is compressed on its own, so memory stays bounded
 * whatever the file's size (one frame's input and output, plus the compressor's tables); zstd
 * decoders read concatenated frames as one stream (RFC 8878 §3.1), and a frame's window never
 * exceeds its content, so it stays under the 8 MB an HTTP `zstd` decoder must accept (RFC 9659).
 */
export const FRAME_BYTES = 4 * 1024 * 1024;

/**
 * Zstandard (`.zst`, Content-Encoding zstd): the reference zstd in wasm, provided by the host, run
 * on independent frames of `FRAME_BYTES`, so a file of any size streams with bounded memory.
 *
 * @example zstd({ level: 3 }, platform).open(ctx) // { writable, readable }
 */
export function zstd(input: ZstdOptions = {}, host: ZstdHost = {}): CompressionStage {
  const { level = DEFAULT_LEVEL } = parse(zstdOptions, input, 'compression/zstd options');
  // Not an option's fault: reported at the plugin itself (a destination's `compression` field).
  if (!host.zstdWasm) {
    const at = host.name ? ` (${host.name})` : '';
    throw new Error(`zstd is not available on this host${at}: it needs the zstd wasm (${ZSTD_WASM_PATH}), which the host does not provide`);
  }
  const compressor = zstdCodec(() => host.zstdWasm!());
  return Object.freeze({
    kind: 'compression',
    name: 'zstd',
    extension: 'zst',
    contentEncoding: 'zstd',
    open: () => zstdFrames(() => compressor(level)),
  });
}

/** A TransformStream writing its input as zstd frames of `frameBytes` uncompressed bytes each. */
export function zstdFrames(
  compressor: () => Promise<ZstdCompress>,
  frameBytes = FRAME_BYTES,
): TransformStream<Uint8Array, Uint8Array> {
  let compress: ZstdCompress;
  const frame = new Uint8Array(frameBytes);
  let filled = 0;
  let frames = 0;
  const emit = (controller: TransformStreamDefaultController<Uint8Array>) => {
    controller.enqueue(compress(frame.subarray(0, filled)));
    filled = 0;
    frames++;
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    async start() {
      compress = await compressor();
    },
    transform(chunk, controller) {
      for (let offset = 0; offset < chunk.byteLength; ) {
        const take = Math.min(frameBytes - filled, chunk.byteLength - offset);
        frame.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === frameBytes) emit(controller);
      }
    },
    flush(controller) {
      // An empty input still makes one (empty) frame: a zero-byte file is not valid zstd.
      if (filled > 0 || frames === 0) emit(controller);
    },
  });
}

export const plugin = definePlugin({
  name: 'compression/zstd',
  description: 'Zstandard compression (.zst, Content-Encoding: zstd) in independent frames of 4 MiB, on every host.',
  options: zstdOptions,
  create: (options, platform) => zstd(options, platform),
});
