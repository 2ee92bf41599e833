/**
 * V8 flags for the workerd that Miniflare starts. Miniflare builds workerd's config itself and has
 * no option for the config's `v8Flags` (bench/workerd-process.ts runs workerd directly for that, but
 * the main job needs Miniflare's D1 and queues), so this adds the field where Miniflare assembles the
 * config, as its CommonJS bundle is compiled. Call before anything imports `miniflare`; it throws if
 * the Miniflare in node_modules no longer has the line it patches (the bench then says so, rather
 * than running uncapped).
 */
import Module from 'node:module';

const ANCHOR = 'structuredLogging: this.#structuredWorkerdLogs';
const FILE = /[/\\]miniflare[/\\]dist[/\\]src[/\\]index\.js$/;

type Compile = (this: unknown, content: string, filename: string) => unknown;

export function miniflareV8Flags(flags: readonly string[]): void {
  const proto = (Module as unknown as { prototype: { _compile: Compile } }).prototype;
  const compile = proto._compile;
  proto._compile = function (content: string, filename: string) {
    if (FILE.test(filename)) {
      if (!content.includes(ANCHOR)) throw new Error(`bench/miniflare-v8.ts: ${filename} no longer has "${ANCHOR}"`);
      content = content.replace(ANCHOR, `${ANCHOR}, v8Flags: ${JSON.stringify(flags)}`);
    }
    return compile.call(this, content, filename);
  };
}

/**
 * The Worker benches' harness, loaded after the flags are set: every isolate of the workerd that
 * Miniflare starts capped at `heapCap` MB (0: V8's default) and printing its collections (`--trace-gc`),
 * then the local Worker, moto's harness and the S3 permission policy.
 */
export async function cappedHarness(heapCap: number) {
  miniflareV8Flags([...(heapCap > 0 ? [`--max-heap-size=${heapCap}`] : []), '--trace-gc']);
  const { startLocalWorker } = await import('../scripts/local-worker.ts');
  const { createBucket, createUser, s3Reader, startMoto } = await import('../test/harness/moto.ts');
  const { permissionPolicy } = await import('../src/plugins/sink/s3/policy.ts');
  return { startLocalWorker, createBucket, createUser, s3Reader, startMoto, permissionPolicy };
}
