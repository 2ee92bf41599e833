/**
 * edge-export-avro — Avro Object Container Files as an edge-export format plugin, `format/avro`:
 * a destination with `fileType: "avro"` writes `.avro` files, `formatOptions` checked by the schema
 * below. It imports only types from the host (`edge-export/plugin`), so the package runs wherever the
 * host does: workerd, Node, Deno.
 */
import type { ConfigIssue, FormatStage, Platform, Plugin } from 'edge-export/plugin';
import * as v from 'valibot';
import { blockCodec, CODECS } from './codecs.ts';
import { containerStream } from './container.ts';

export { AvroWriter } from './binary.ts';
export { blockCodec, crc32 } from './codecs.ts';
export { containerStream, header } from './container.ts';
export { avroName, rowCodec } from './schema.ts';

const AVRO_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const avroOptions = v.optional(
  v.pipe(
    v.strictObject({
      /** Block codec: `null` (none), `deflate` (the spec's other required codec), `snappy` or `zstandard` (the host's zstd). */
      codec: v.optional(v.picklist(CODECS, `expected one of ${CODECS.join(', ')}`), 'deflate'),
      /** Deflate level 1 (fastest) to 9 (smallest), default 6; zstandard level 1 to 19, default 3. */
      level: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(19))),
      /** Rows per block at most (a block is the unit a reader decompresses and a writer holds). */
      blockRows: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000)), 10_000),
      /** A block is closed once its rows take this many bytes before compression (64 KiB – 16 MiB). */
      blockBytes: v.optional(
        v.pipe(v.number(), v.integer(), v.minValue(65_536), v.maxValue(16 * 2 ** 20)),
        2 ** 20,
      ),
      /** Name of the record schema. */
      recordName: v.optional(
        v.pipe(
          v.string(),
          v.regex(AVRO_NAME, 'expected an Avro name: a letter or _, then letters, digits or _'),
        ),
        'Row',
      ),
      /** Namespace of the record schema: Avro names joined by dots. */
      namespace: v.optional(
        v.pipe(
          v.string(),
          v.regex(
            /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/,
            'expected Avro names joined by dots',
          ),
        ),
      ),
    }),
    v.forward(
      v.check(
        (o) => o.level === undefined || o.codec === 'deflate' || o.codec === 'zstandard',
        'only the deflate and zstandard codecs take a level',
      ),
      ['level'],
    ),
    v.forward(
      v.check((o) => o.level === undefined || o.codec !== 'deflate' || o.level <= 9, 'deflate levels go from 1 to 9'),
      ['level'],
    ),
  ),
  {},
);
export type AvroOptions = v.InferOutput<typeof avroOptions>;

/** What the plugin takes from its host: the platform's name, native snappy and zstd. */
export type AvroHost = Partial<Pick<Platform, 'name' | 'codecs' | 'zstd'>>;

/**
 * The Avro format stage. Compression happens inside the file (per block), so an outer compression
 * stage is refused, as for Parquet; `snappy` is the host's native one when it offers it (Node),
 * `zstandard` the host's zstd, and a host without zstd refuses it when the configuration is checked.
 *
 * @example avro({ codec: 'zstandard' }, platform).open(ctx)
 */
export function avro(options: v.InferInput<typeof avroOptions> = {}, host: AvroHost = {}): FormatStage {
  const o = v.parse(avroOptions, options);
  const missing = o.codec === 'zstandard' && !host.zstd;
  const codec = missing
    ? undefined
    : blockCodec(o.codec, {
        ...(o.level !== undefined && { level: o.level }),
        ...(host.codecs?.snappy && { snappy: host.codecs.snappy }),
        ...(host.zstd && { zstd: (level: number) => host.zstd!(level) }),
      });
  return {
    kind: 'format',
    name: 'avro',
    extension: 'avro',
    contentType: 'application/avro',
    compressible: false,
    // registry.check runs this before anything is exported, so the refusal lands at `formatOptions.codec`.
    check: async (): Promise<readonly ConfigIssue[]> => (missing ? [zstdMissing(host.name)] : []),
    open: (ctx) => {
      if (!codec) throw new Error(zstdMissing(host.name).message);
      return containerStream(ctx.schema, {
        codec,
        blockRows: o.blockRows,
        blockBytes: o.blockBytes,
        recordName: o.recordName,
        ...(o.namespace && { namespace: o.namespace }),
      });
    },
  };
}

function zstdMissing(host: string | undefined): ConfigIssue {
  return {
    path: 'codec',
    message: `zstandard is not available on this host${host ? ` (${host})` : ''}: it needs the host's zstd (Platform.zstd), which this host does not provide`,
    expected: '"null" | "deflate" | "snappy" on this host',
    received: '"zstandard"',
  };
}

/** The plugin: register it (see edge-export.plugins.ts) and a destination picks it with `fileType: "avro"`. */
export const plugin: Plugin<typeof avroOptions> = Object.freeze({
  name: 'format/avro',
  description: 'Avro object container files (Avro 1.11), codecs null, deflate, snappy or zstandard (edge-export-avro)',
  options: avroOptions,
  create: (options: AvroOptions, platform: Platform) => avro(options, platform),
});

export default plugin;
