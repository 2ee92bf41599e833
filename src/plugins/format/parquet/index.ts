/**
 * format/parquet — typed Parquet files written row group by row group with hyparquet-writer.
 * Codecs: snappy (built into hyparquet-writer), gzip (fflate, pure JS, synchronous), zstd (the
 * reference zstd in wasm, provided by the host: see ./zstd.ts), uncompressed.
 */
import { gzipSync } from 'fflate';
import type { CompressionCodec } from 'hyparquet';
import * as v from 'valibot';
import { ConfigError } from '../../../core/errors.ts';
import type { PageCodecs, WasmSource } from '../../../core/platform.ts';
import { definePlugin } from '../../../core/plugin.ts';
import type { FormatContext, FormatStage, RowBatch } from '../../../core/types.ts';
import { parse } from '../../../core/validate.ts';
import { type Compressors, parquetStream } from './writer.ts';
import { type ZstdCompress, zstdCodec, ZSTD_WASM_PATH } from '../../zstd-wasm.ts';

export { ZSTD_WASM_PATH };

/** What the format takes from the host: native page codecs and the zstd wasm (see Platform). */
export interface ParquetHost {
  readonly name?: string;
  readonly codecs?: PageCodecs;
  zstdWasm?(): Promise<WasmSource>;
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
 * Native page codecs and the zstd wasm come from the host (its platform); output pages are the
 * standard formats whoever compresses them.
 *
 * @example parquet({ codec: 'zstd', rowGroupSize: 10_000 }, platform)
 */
export function parquet(input: ParquetOptionsInput = {}, host: ParquetHost = {}): ParquetStage {
  const options = parse(parquetOptions, input, 'format/parquet options');
  checkCodec(options, host);
  const zstd = host.zstdWasm ? zstdCodec(() => host.zstdWasm!()) : undefined;
  const codecs = host.codecs ?? {};
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
        compressors: () => compressorsFor(options, codecs, zstd),
      });
    },
  });
}

function checkCodec(options: ParquetOptions, host: ParquetHost): void {
  const issues = [];
  if (options.codec === 'zstd' && !host.zstdWasm) {
    issues.push({
      path: 'codec',
      message: `zstd is not available on this host${host.name ? ` (${host.name})` : ''}: it needs the zstd wasm (${ZSTD_WASM_PATH}), which the host does not provide`,
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

async function compressorsFor(
  options: ParquetOptions,
  codecs: PageCodecs,
  zstd: ((level: number) => Promise<ZstdCompress>) | undefined,
): Promise<Compressors> {
  const level = options.level;
  if (options.codec === 'gzip') {
    const gzipLevel = (level ?? 6) as 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
    const native = codecs.gzip;
    return {
      GZIP: native ? (input) => native(input, gzipLevel) : (input) => gzipSync(input, { level: gzipLevel }),
    };
  }
  if (options.codec === 'zstd' && zstd) return { ZSTD: await zstd(level ?? 3) };
  if (options.codec === 'snappy' && codecs.snappy) return { SNAPPY: codecs.snappy };
  return {};
}

export const plugin = definePlugin({
  name: 'format/parquet',
  description: 'Typed Parquet files (snappy, gzip, zstd or uncompressed), streamed row group by row group',
  options: v.optional(parquetOptions, {}),
  create: (options, platform) => parquet(options, platform),
});
