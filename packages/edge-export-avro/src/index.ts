/**
 * edge-export-avro — Avro Object Container Files as an edge-export format plugin, `format/avro`:
 * a destination with `fileType: "avro"` writes `.avro` files, `formatOptions` checked by the schema
 * below. It imports only types from the host (`edge-export/plugin`), so the package runs wherever the
 * host does: workerd, Node, Deno.
 */
import type { FormatStage, Platform, Plugin } from 'edge-export/plugin';
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
      /** Block codec: `null` (none), `deflate` (the spec's other required codec) or `snappy`. */
      codec: v.optional(v.picklist(CODECS, `expected one of ${CODECS.join(', ')}`), 'deflate'),
      /** Deflate level, 1 (fastest) to 9 (smallest); default 6. */
      level: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(9))),
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
      v.check((o) => o.level === undefined || o.codec === 'deflate', 'only the deflate codec takes a level'),
      ['level'],
    ),
  ),
  {},
);
export type AvroOptions = v.InferOutput<typeof avroOptions>;

/**
 * The Avro format stage. Compression happens inside the file (per block), so an outer compression
 * stage is refused, as for Parquet; `snappy` is the host's native one when it offers it (Node).
 *
 * @example avro({ codec: 'snappy' }).open(ctx)
 */
export function avro(
  options: v.InferInput<typeof avroOptions> = {},
  snappy?: (input: Uint8Array) => Uint8Array,
): FormatStage {
  const o = v.parse(avroOptions, options);
  const codec = blockCodec(o.codec, {
    ...(o.level !== undefined && { level: o.level }),
    ...(snappy && { snappy }),
  });
  return {
    kind: 'format',
    name: 'avro',
    extension: 'avro',
    contentType: 'application/avro',
    compressible: false,
    open: (ctx) =>
      containerStream(ctx.schema, {
        codec,
        blockRows: o.blockRows,
        blockBytes: o.blockBytes,
        recordName: o.recordName,
        ...(o.namespace && { namespace: o.namespace }),
      }),
  };
}

/** The plugin: register it (see edge-export.plugins.ts) and a destination picks it with `fileType: "avro"`. */
export const plugin: Plugin<typeof avroOptions> = Object.freeze({
  name: 'format/avro',
  description: 'Avro object container files (Avro 1.11), codecs null, deflate or snappy (edge-export-avro)',
  options: avroOptions,
  create: (options: AvroOptions, platform: Platform) => avro(options, platform.codecs?.snappy),
});

export default plugin;
