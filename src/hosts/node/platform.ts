/**
 * The Node platform: what Node gives the engine, for the CLI and the Node host alike — fetch over
 * node:http(s) without undici's body copies (and connecting through a given resolver, for the
 * endpoint checks of a served host), the system resolver, node:crypto SHA-256, zlib gzip, native
 * snappy and zlib Parquet pages, the zstd wasm read from node_modules, and the local-folder sink.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Platform } from '../../core/platform.ts';
import { ZSTD_WASM_PATH, zstdAbilities } from '../../plugins/zstd-wasm.ts';
import { plugin as localSink } from '../../plugins/sink/local/index.ts';
import { nodeFetch, nodeFetchThrough } from './fetch.ts';
import { zlibGzip } from './gzip.ts';
import { nodeParquetCodecs } from './parquet-codecs.ts';
import { systemResolveHost } from './resolve.ts';
import { nodeSha256 } from './sha256.ts';

/** The wasm file inside the installed package (its `exports` map does not expose it). */
export function zstdWasmFile(): string {
  const [pkg, ...rest] = ZSTD_WASM_PATH.split('/dist/');
  const entry = createRequire(import.meta.url).resolve(pkg!);
  return join(entry.slice(0, entry.lastIndexOf(`${pkg}/`) + pkg!.length + 1), 'dist', ...rest);
}

/**
 * Node's platform. `env` supplies the platform identity for assumed roles (EDGE_EXPORT_AWS_*);
 * `overrides` replace members (a host adds its endpoint policy, a test its clock or its resolver). A
 * replaced `fetch` takes `fetchThrough` with it: a served host then guards the given fetch instead.
 *
 * @example exportService(nodePlatform(process.env))
 */
export function nodePlatform(
  env: Readonly<Record<string, string | undefined>> = {},
  overrides: Partial<Platform> = {},
): Platform {
  let wasm: Promise<Uint8Array> | undefined;
  return {
    name: 'node',
    env,
    now: () => new Date(),
    uuid: () => crypto.randomUUID(),
    fetch: nodeFetch,
    ...(overrides.fetch === undefined && { fetchThrough: nodeFetchThrough }),
    resolveHost: systemResolveHost,
    sha256: nodeSha256,
    plugins: [localSink],
    codecs: nodeParquetCodecs,
    gzip: zlibGzip,
    ...zstdAbilities(() => (wasm ??= readFile(zstdWasmFile()))),
    ...(env.EDGE_EXPORT_LOG === 'debug' && {
      log: (level, message, fields) => process.stderr.write(`${JSON.stringify({ level, message, ...fields })}\n`),
    }),
    ...overrides,
  };
}
