/** The Cloudflare Worker entry: the Worker's handlers on workerd's platform, with the zstd wasm. */
// Workers cannot compile wasm from bytes at run time: the module is imported, compiled at upload.
import zstd from '../../node_modules/@bokuweb/zstd-wasm/dist/esm/zstd.wasm';
import { workerdPlatform } from './platform.ts';
import { createWorker } from './worker.ts';

export default createWorker(workerdPlatform(zstd));
