/**
 * Synchronous zstd compression (Parquet pages, and the frames of `compression/zstd`), from the
 * reference zstd library compiled to wasm
 * (the `zstd.wasm` shipped by the npm package `@bokuweb/zstd-wasm@0.0.27`, pinned exactly).
 *
 * Workers forbid compiling wasm from bytes at run time, so this module never fetches or compiles on
 * its own: the host's platform hands over the wasm (`Platform.zstdWasm`: a `WebAssembly.Module`
 * imported as a module in a Worker, the file's bytes in Node or Deno). Instantiation is synchronous
 * (`new WebAssembly.Instance`), which every runtime allows for an already compiled module.
 */

import type { Platform, WasmSource, ZstdCompress } from '../core/platform.ts';

export type { ZstdCompress };

/** Relative path of the wasm file inside node_modules, for hosts that read or import it. */
export const ZSTD_WASM_PATH = '@bokuweb/zstd-wasm/dist/esm/zstd.wasm';

/**
 * A zstd compressor source over the host's wasm: instantiated once, on first use, then shared by
 * every file of the stage that owns it.
 *
 * @example const zstd = zstdCodec(platform.zstdWasm); const compress = await zstd(3)
 */
export function zstdCodec(wasm: () => Promise<WasmSource>): (level: number) => Promise<ZstdCompress> {
  let instance: Promise<ZstdExports> | undefined;
  return async (level) => {
    instance ??= wasm()
      .then(toModule)
      .then(instantiate)
      .catch((error: unknown) => {
        instance = undefined;
        throw error;
      });
    const zstd = await instance;
    return (input) => zstd.compress(input, level);
  };
}

/**
 * A host's zstd members from its wasm loader: the wasm itself (Parquet, `compression/zstd`) and the
 * ready compressor plugins receive (`Platform.zstd`), so a host cannot offer one without the other.
 *
 * @example { ...nodeBase, ...zstdAbilities(() => readFile(zstdWasmFile())) }
 */
export function zstdAbilities(wasm: () => Promise<WasmSource>): Required<Pick<Platform, 'zstdWasm' | 'zstd'>> {
  return { zstdWasm: wasm, zstd: zstdCodec(wasm) };
}

async function toModule(value: WasmSource): Promise<WebAssembly.Module> {
  if (value instanceof WebAssembly.Module) return value;
  return WebAssembly.compile(value as BufferSource);
}

interface ZstdExports {
  compress(input: Uint8Array, level: number): Uint8Array;
}

/** Raw exports of the emscripten build, by their minified names in 0.0.27. */
interface RawExports {
  f: WebAssembly.Memory;
  g: () => void;
  h: (code: number) => number;
  i: (size: number) => number;
  m: (dst: number, cap: number, src: number, size: number, level: number) => number;
  s: (size: number) => number;
  t: (ptr: number) => void;
}

function instantiate(module: WebAssembly.Module): ZstdExports {
  let memory: WebAssembly.Memory | undefined;
  const abort = (): never => {
    throw new Error('zstd wasm aborted');
  };
  const imports = {
    a: {
      a: abort, // proc_exit
      b: () => {}, // runtime_keepalive_clear
      c: abort, // abort
      d: () => 0, // setitimer: zstd never sets timers
      e: (requested: number) => growMemory(memory!, requested >>> 0),
    },
  };
  const raw = new WebAssembly.Instance(module, imports).exports as unknown as RawExports;
  if (!(raw.f instanceof WebAssembly.Memory) || typeof raw.m !== 'function') {
    throw new Error(`zstd wasm exports do not match ${ZSTD_WASM_PATH} 0.0.27`);
  }
  memory = raw.f;
  raw.g();
  return {
    compress: (input, level) =>
      call(raw, input, raw.i(input.byteLength), (d, c, s, n) => raw.m(d, c, s, n, level)),
  };
}

/** Copies input into wasm memory, runs `fn` into a `capacity`-byte buffer, copies the result out. */
function call(
  raw: RawExports,
  input: Uint8Array,
  capacity: number,
  fn: (dst: number, cap: number, src: number, size: number) => number,
): Uint8Array {
  const src = raw.s(input.byteLength || 1);
  const dst = raw.s(capacity || 1);
  try {
    new Uint8Array(raw.f.buffer, src, input.byteLength).set(input);
    const size = fn(dst, capacity, src, input.byteLength);
    if (raw.h(size)) throw new Error(`zstd failed with code ${size}`);
    return new Uint8Array(raw.f.buffer, dst, size).slice();
  } finally {
    raw.t(src);
    raw.t(dst);
  }
}

function growMemory(memory: WebAssembly.Memory, requested: number): number {
  const current = memory.buffer.byteLength;
  if (requested > 2 ** 31) return 0;
  const target = Math.max(requested, Math.min(current * 1.2, requested + 96 * 2 ** 20));
  try {
    memory.grow(Math.ceil((target - current) / 65536));
    return 1;
  } catch {
    return 0;
  }
}
