/** Plugins only a Node host offers (node:fs, node:zlib); they replace built-ins of the same name. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Plugin } from '../../core/plugin.ts';
import { provideCodecs } from '../../plugins/format/parquet/index.ts';
import { provideZstdWasm, ZSTD_WASM_PATH } from '../../plugins/format/parquet/zstd.ts';
import { builtinPlugins } from '../../plugins/index.ts';
import { plugin as gzip } from './gzip.ts';
import { nodeParquetCodecs } from './parquet-codecs.ts';
import { plugin as localSink } from '../../plugins/sink/local/index.ts';

export const localPlugins: readonly Plugin[] = Object.freeze([localSink, gzip] as Plugin[]);

/** The wasm file inside the installed package (its `exports` map does not expose it). */
function zstdWasmFile(): string {
  const [pkg, ...rest] = ZSTD_WASM_PATH.split('/dist/');
  const entry = createRequire(import.meta.url).resolve(pkg!);
  return join(entry.slice(0, entry.lastIndexOf(`${pkg}/`) + pkg!.length + 1), 'dist', ...rest);
}

/**
 * Built-ins with the Node variants swapped in (zlib gzip is ~2.6× faster than CompressionStream),
 * the zstd wasm handed to the Parquet format (read lazily, on first zstd use), and native snappy
 * and zlib for its pages.
 */
export function nodePlugins(): Plugin[] {
  provideZstdWasm(() => readFile(zstdWasmFile()));
  provideCodecs(nodeParquetCodecs);
  const local = new Set(localPlugins.map((p) => p.name));
  return [...builtinPlugins.filter((p) => !local.has(p.name)), ...localPlugins];
}
