/**
 * The Deno platform: Deno's own fetch, node:crypto SHA-256 and node:zlib gzip (both built into
 * Deno), the system resolver and, for a served host's endpoint checks, the Node fetch over Deno's
 * node:http(s) connecting through a given resolver (Deno's own fetch cannot be given one), and the
 * zstd wasm read from node_modules. Snappy stays the portable JavaScript one (the native addon is
 * Node's).
 */
import { readFile } from 'node:fs/promises';
import type { Platform } from '../../core/platform.ts';
import { ZSTD_WASM_PATH, zstdAbilities } from '../../plugins/zstd-wasm.ts';
import { plugin as localSink } from '../../plugins/sink/local/index.ts';
import { nodeFetchThrough } from '../node/fetch.ts';
import { zlibGzip } from '../node/gzip.ts';
import { systemResolveHost } from '../node/resolve.ts';
import { nodeSha256 } from '../node/sha256.ts';

/**
 * Deno's platform; `overrides` replace members.
 *
 * @example createHost(db, vars, denoPlatform())
 */
export function denoPlatform(env: Readonly<Record<string, string | undefined>> = {}, overrides: Partial<Platform> = {}): Platform {
  let wasm: Promise<Uint8Array> | undefined;
  return {
    name: 'deno',
    env,
    now: () => new Date(),
    uuid: () => crypto.randomUUID(),
    fetch: (input, init) => fetch(input, init),
    ...(overrides.fetch === undefined && { fetchThrough: nodeFetchThrough }),
    resolveHost: systemResolveHost,
    sha256: nodeSha256,
    plugins: [localSink],
    gzip: zlibGzip,
    ...zstdAbilities(() => (wasm ??= readFile(new URL(`../../../node_modules/${ZSTD_WASM_PATH}`, import.meta.url)))),
    ...overrides,
  };
}
