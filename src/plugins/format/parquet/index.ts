/**
 * format/parquet — typed Parquet files written row group by row group with hyparquet-writer.
 * Codecs: snappy (built into hyparquet-writer), gzip (fflate, pure JS, synchronous), zstd (the
 * reference zstd in wasm, provided by the host: see ./zstd.ts), uncompressed.
 */
import { gzipSync } from 'fflate';
import type { CompressionCodec } from 'hyparquet';
import * as v from 'valibot';
import { ConfigError } from '../../../core/errors.ts';
import { definePlugin } from '../../../core/plugin.ts';
import type { FormatContext, FormatStage, RowBatch } from '../../../core/types.ts';
import { parse } from '../../../core/validate.ts';
import { type Compressors, parquetStream } from './writer.ts';
import { ZSTD_WASM_PATH, zstdAvailable, zstdCompressor } from './zstd.ts';

export { provideZstdWasm, ZSTD_WASM_PATH, type ZstdWasmSource } from './zstd.ts';

/** Page compressors a host may supply in place of the portable ones (Node: native snappy, zlib). */
export interface HostCodecs {
  readonly snappy?: (input: Uint8Array) => Uint8Array;
  readonly gzip?: (input: Uint8Array, level: number) => Uint8Array;
}

let hostCodecs: HostCodecs = {};

/** Called once by a host (src/node/plugins.ts); the output stays standard snappy / gzip pages. */
export function provideCodecs(codecs: HostCodecs): void {
  hostCodecs = { ...hostCodecs, ...codecs };
}

/**
 * Rows per row group. Measured with fixtures/parquet/measure-memory.ts (1M rows × 10 mixed columns,
 * Node 20): 10,000-row groups run in a 48 MB old-space heap (peak RSS 141 MiB, 85 MiB of which is
 * Node with the modules loaded); 20,000 peaked at 254 MiB unconstrained, 2,000 made files 30% larger.
 */
export const DEFAULT_ROW_GROUP_SIZE = 10_000;

export const parquetOptions = v.strictObject({
  codec: v.optional(v.picklist(['snappy', 'gzip', 'zstd', 'uncompressed']), 'snappy'),
  rowGroupSize: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000)),
    DEFAULT_ROW_GROUP_SIZE,
  ),
  /** Timestamps are written as UTC instants in this unit (DuckDB/Spark default: micros). */
  timestampUnit: v.optional(v.picklist(['millis', 'micros']), 'micros'),
  /** Compression level: gzip 1–9 (default 6), zstd 1–19 (default 3); ignored by snappy. */
  level: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(19))),
});
export type ParquetOptions = v.InferOutput<typeof parquetOptions>;
export type ParquetOptionsInput = v.InferInput<typeof parquetOptions>;

export interface ParquetStage extends FormatStage {
  readonly name: 'parquet';
  readonly options: ParquetOptions;
}

const CODECS: Record<ParquetOptions['codec'], CompressionCodec> = {
  snappy: 'SNAPPY',
  gzip: 'GZIP',
  zstd: 'ZSTD',
  uncompressed: 'UNCOMPRESSED',
};

/**
 * A Parquet format stage; compression lives inside the file, so an outer compression is refused.
 *
 * @example parquet({ codec: 'zstd', rowGroupSize: 10_000 })
 */
export function parquet(input: ParquetOptionsInput = {}): ParquetStage {
  const options = parse(parquetOptions, input, 'format/parquet options');
  checkCodec(options);
  return Object.freeze({
    kind: 'format',
    name: 'parquet',
    extension: 'parquet',
    contentType: 'application/vnd.apache.parquet',
    compressible: false,
    options,
    open(ctx: FormatContext): ReadableWritablePair<Uint8Array, RowBatch> {
      return parquetStream({
        schema: ctx.schema,
        codec: CODECS[options.codec],
        rowGroupSize: options.rowGroupSize,
        timestampUnit: options.timestampUnit,
        compressors: () => compressorsFor(options),
      });
    },
  });
}

function checkCodec(options: ParquetOptions): void {
  const issues = [];
  if (options.codec === 'zstd' && !zstdAvailable()) {
    issues.push({
      path: 'codec',
      message: `zstd needs the zstd wasm module, which this host has not provided (provideZstdWasm with ${ZSTD_WASM_PATH})`,
      expected: '"snappy" | "gzip" | "uncompressed" on this host',
      received: '"zstd"',
    });
  }
  if (options.level !== undefined && options.codec === 'gzip' && options.level > 9) {
    issues.push({
      path: 'level',
      message: 'gzip levels go from 1 to 9',
      expected: '1..9',
      received: `${options.level}`,
    });
  }
  if (issues.length > 0) throw new ConfigError(issues, 'format/parquet options');
}

async function compressorsFor(options: ParquetOptions): Promise<Compressors> {
  const level = options.level;
  if (options.codec === 'gzip') {
    const gzipLevel = (level ?? 6) as 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
    const host = hostCodecs.gzip;
    return {
      GZIP: host ? (input) => host(input, gzipLevel) : (input) => gzipSync(input, { level: gzipLevel }),
    };
  }
  if (options.codec === 'zstd') return { ZSTD: await zstdCompressor(level ?? 3) };
  if (options.codec === 'snappy' && hostCodecs.snappy) return { SNAPPY: hostCodecs.snappy };
  return {};
}

export const plugin = definePlugin({
  name: 'format/parquet',
  description: 'Typed Parquet files (snappy, gzip, zstd or uncompressed), streamed row group by row group',
  options: v.optional(parquetOptions, {}),
  create: (options) => parquet(options),
});
