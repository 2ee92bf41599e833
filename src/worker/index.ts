/** The Cloudflare Worker entry: the Worker's handlers on workerd's platform, with the zstd wasm and the installed plugins. */
// Workers cannot compile wasm from bytes at run time: the module is imported, compiled at upload.
import zstd from '../../node_modules/@bokuweb/zstd-wasm/dist/esm/zstd.wasm';
import { installedPlugins } from '../../edge-export.plugins.ts';
import { withPlugins } from '../core/platform.ts';
import { workerdPlatform } from './platform.ts';
import { createWorker } from './worker.ts';

// The Durable Object class of the SHARDS binding (sharded profile storage, docs/SCALE.md).
export { ProfileShard } from './shards/object.ts';

// The deployment's third-party plugins are bundled in: a Worker cannot import code at run time.
export default createWorker(withPlugins(workerdPlatform(zstd), installedPlugins));
