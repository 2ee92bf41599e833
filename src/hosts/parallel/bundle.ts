/**
 * Node's worker script: worker.ts and what it imports, bundled by esbuild (the Parquet reader as a chunk of its own)
 * and cached (under the OS temp folder) until one of its input files changes. Node cannot start a
 * worker thread on TypeScript; registering tsx in each worker instead made a worker start slower
 * and, once in about 30 runs under load, left an esbuild request of a terminated worker pending so
 * that the process never exited. Deno runs worker.ts as it is (engine.ts).
 */
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

let cached: Promise<URL> | undefined;

/** The URL of the bundled worker script, built now if the cached one is missing or stale (once per process). */
export function workerBundle(): Promise<URL> {
  cached ??= bundle().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

/** Builds older than this are removed when a new one is written (a run still using one is done by then). */
const STALE_MS = 24 * 60 * 60 * 1000;

async function bundle(): Promise<URL> {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const dir = join(tmpdir(), `edge-export-${uid}`, 'parallel-worker');
  const meta = join(dir, `${Buffer.from(ENTRY).toString('base64url').slice(-40)}.json`);
  try {
    const built = JSON.parse(readFileSync(meta, 'utf8')) as Built;
    if (fresh(built)) return pathToFileURL(built.bundle);
  } catch {
    // no bundle yet, or an unreadable one: build it
  }
  const { build } = await import('esbuild');
  // The Parquet reader is imported only by a worker that reads Parquet: its own chunk, not in every worker's start.
  const outdir = join(dir, `build-${process.pid}-${Date.now()}`);
  const result = await build({
    entryPoints: { worker: ENTRY },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir,
    outExtension: { '.js': '.mjs' },
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  const inputs = Object.fromEntries(Object.keys(result.metafile.inputs).map((p) => [resolve(ROOT, p), stamp(resolve(ROOT, p))]));
  const bundle = join(outdir, 'worker.mjs');
  // Written whole, then renamed: a process reading the cache never sees half of it.
  const temporary = `${meta}.${process.pid}`;
  writeFileSync(temporary, JSON.stringify({ bundle, inputs } satisfies Built));
  renameSync(temporary, meta);
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (path !== outdir && entry.startsWith('build-') && Date.now() - statSync(path).mtimeMs > STALE_MS) rmSync(path, { recursive: true, force: true });
  }
  return pathToFileURL(bundle);
}
