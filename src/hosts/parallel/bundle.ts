/**
 * Node's worker script: worker.ts and what it imports, bundled into one JavaScript module by esbuild
 * and cached (under the OS temp folder) until one of its input files changes. Node cannot start a
 * worker thread on TypeScript; registering tsx in each worker instead made a worker start slower
 * and, once in about 30 runs under load, left an esbuild request of a terminated worker pending so
 * that the process never exited. Deno runs worker.ts as it is (engine.ts).
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ENTRY = fileURLToPath(new URL('./worker.ts', import.meta.url));
const ROOT = resolve(dirname(ENTRY), '../../..');

/** What a cached bundle was built from: each input file's size and modification time. */
interface Built {
  readonly bundle: string;
  readonly inputs: Record<string, string>;
}

const stamp = (path: string): string => {
  const s = statSync(path);
  return `${s.size}:${s.mtimeMs}`;
};

function fresh(built: Built): boolean {
  try {
    return Object.entries(built.inputs).every(([path, was]) => stamp(path) === was);
  } catch {
    return false;
  }
}

let cached: URL | undefined;

/** The URL of the bundled worker script, built now if the cached one is missing or stale. */
export async function workerBundle(): Promise<URL> {
  if (cached) return cached;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const dir = join(tmpdir(), `edge-export-${uid}`, 'parallel-worker');
  const meta = join(dir, `${Buffer.from(ENTRY).toString('base64url').slice(-40)}.json`);
  try {
    const built = JSON.parse(readFileSync(meta, 'utf8')) as Built;
    if (fresh(built)) {
      cached = pathToFileURL(built.bundle);
      return cached;
    }
  } catch {
    // no bundle yet, or an unreadable one: build it
  }
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'error',
    absWorkingDir: ROOT,
  });
  mkdirSync(dir, { recursive: true });
  const bundle = join(dir, `worker-${process.pid}-${Date.now()}.mjs`);
  writeFileSync(bundle, result.outputFiles[0]!.contents);
  const inputs = Object.fromEntries(Object.keys(result.metafile.inputs).map((p) => [resolve(ROOT, p), stamp(resolve(ROOT, p))]));
  // Written whole, then renamed: a process reading the cache never sees half of it.
  const temporary = `${meta}.${process.pid}`;
  writeFileSync(temporary, JSON.stringify({ bundle, inputs } satisfies Built));
  renameSync(temporary, meta);
  cached = pathToFileURL(bundle);
  return cached;
}
