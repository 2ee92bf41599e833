/**
 * The platform: everything a host gives the engine, in one object per host (workerd, Node, Deno, a
 * test). Plugins receive it when they are built (`Plugin.create(options, platform)`) and stages see
 * its run-time half (`Runtime`) in every context, so no host ability travels through module state.
 *
 * Only the clock, ids and fetch are required; every other member is an optional speed-up or an
 * optional ability, and a plugin that needs a missing one says so at configuration time.
 */
import type { Plugin } from './plugin.ts';
import type { EndpointPolicy, ResolveHost } from './security/ssrf.ts';
import type { Runtime } from './types.ts';

/** Page compressors a host may supply in place of the portable ones (Node: native snappy, zlib). */
export interface PageCodecs {
  readonly snappy?: (input: Uint8Array) => Uint8Array;
  readonly gzip?: (input: Uint8Array, level: number) => Uint8Array;
}

/** Compresses one buffer into one zstd frame (RFC 8878), synchronously. */
export type ZstdCompress = (input: Uint8Array) => Uint8Array;

/** A compiled zstd module, or its bytes (hosts that may compile wasm at run time). */
export type WasmSource = WebAssembly.Module | ArrayBuffer | Uint8Array;

/** Multipart sizing suited to the host's memory: the S3 sink's defaults when the options set none. */
export interface UploadSizing {
  readonly partSize: number;
  readonly concurrency: number;
}

export interface Platform extends Runtime {
  /** `workerd`, `node`, `deno`, … — named in messages about what this host can do. */
  readonly name: string;
  /** Host environment values plugins may read (the platform AWS identity, its ARN). Never user input. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Plugins only this host offers (a local-folder sink on Node and Deno), beside the built-ins. */
  readonly plugins?: readonly Plugin[];
  /** Native Parquet page codecs. */
  readonly codecs?: PageCodecs;
  /** A native streaming gzip at a zlib level (0–9); without it gzip runs on CompressionStream. */
  gzip?(level: number): ReadableWritablePair<Uint8Array, Uint8Array>;
  /**
   * The zstd wasm (`@bokuweb/zstd-wasm`'s `zstd.wasm`): a Worker imports it as a compiled module
   * (Workers cannot compile wasm from bytes), Node and Deno read the file. Absent: no zstd here.
   */
  zstdWasm?(): Promise<WasmSource>;
  /**
   * A zstd compressor at a level (1–19) over the same wasm, for plugins that must not know how the
   * wasm is built or loaded (a third-party format's zstd blocks): each call returns a function
   * compressing one buffer into one zstd frame. Hosts set it with `zstdWasm` (`zstdAbilities`).
   * Absent: no zstd here.
   */
  zstd?(level: number): Promise<ZstdCompress>;
  /** Multipart part size and parallelism for this host's memory (a Worker has 128 MB). */
  readonly multipart?: UploadSizing;
  /**
   * Which user-supplied URLs (S3 and STS endpoints) this host may call, for hosts that serve many
   * tenants (SSRF). Absent: the endpoints are the operator's own (the CLI) and are not restricted.
   */
  readonly endpoints?: EndpointPolicy;
  /**
   * Every address a host name resolves to, as this host's connections would resolve it (Node and
   * Deno: the system resolver, /etc/hosts included). The endpoint checks resolve user-supplied names
   * with it and check each address. Absent (workerd: no DNS API): names are checked by their form
   * only, and the platform's own egress keeps requests off private networks.
   */
  resolveHost?(name: string): Promise<readonly string[]>;
  /**
   * This host's fetch, connecting to the addresses `resolve` gives for a name (and failing with its
   * error): a served host hands it a resolver that refuses internal addresses, so the check applies
   * to the very address connected to. Absent: the host's fetch is guarded before it resolves.
   */
  fetchThrough?(resolve: ResolveHost): typeof fetch;
}

/**
 * The platform with more plugins beside its own: a host entry adds the deployment's installed
 * plugins (edge-export.plugins.ts) this way.
 *
 * @example withPlugins(workerdPlatform(zstd), installedPlugins)
 */
export function withPlugins(platform: Platform, plugins: readonly Plugin[]): Platform {
  return plugins.length === 0 ? platform : { ...platform, plugins: [...(platform.plugins ?? []), ...plugins] };
}

/**
 * A platform from web standards only, for tests and embedders: the global fetch, the system clock,
 * random UUIDs; `overrides` replace or add members.
 *
 * @example webPlatform({ now: () => new Date('2026-01-01T00:00:00Z') })
 */
export function webPlatform(overrides: Partial<Platform> = {}): Platform {
  return {
    name: 'web',
    env: {},
    now: () => new Date(),
    uuid: () => crypto.randomUUID(),
    fetch: (input, init) => fetch(input, init),
    ...overrides,
  };
}
