/**
 * Sorted runs on local disk, for the CLI on Node and Deno (both give `node:fs`): one temporary
 * folder per export (made on the first spilled run, under the OS temp folder — `TMPDIR` moves it),
 * one file per run, lines as written, read back as a stream a chunk at a time. The folder goes when
 * the export ends (`dispose()`), and with the process if it exits first (a second Ctrl-C).
 */
import { Buffer } from 'node:buffer';
import { createReadStream, rmSync } from 'node:fs';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SpillStore } from '../../core/data/spill.ts';

/** The CLI's sort budget when neither `--sort-budget` nor `EXPORT_SORT_BUDGET` sets one: 64 MiB. */
export const DEFAULT_SORT_BUDGET = 64 * 1024 * 1024;

/** Bytes read from a run file at a time: what one run being merged holds besides its current line. */
const READ_CHUNK = 64 * 1024;

export interface FileSpill {
  /** A store of its own (its runs are files no other store sees); `key` names them for a reader. */
  store(key: string): SpillStore;
  /** Run files written and their bytes, so far (a run written in several calls counts once). */
  readonly written: { readonly files: number; readonly bytes: number };
  /** The temporary folder, once a run was spilled. */
  readonly directory: string | undefined;
  /** Removes the folder and everything in it; the spill may be used again afterwards. */
  dispose(): Promise<void>;
}

/**
 * A file-backed spill under `parent` (default: the OS temp folder).
 *
 * @example const spill = fileSpill(); try { await run({ spill: spill.store }) } finally { await spill.dispose() }
 */
export function fileSpill(parent: string = tmpdir()): FileSpill {
  let folder: Promise<string> | undefined;
  let directory: string | undefined;
  let stores = 0;
  const written = { files: 0, bytes: 0 };
  // Sync, as `exit` handlers must be: the process is going whatever the export was doing.
  const onExit = () => {
    if (directory) rmSync(directory, { recursive: true, force: true });
  };
  const folderPath = () =>
    (folder ??= mkdtemp(join(parent, 'edge-export-spill-')).then((made) => {
      directory = made;
      process.once('exit', onExit);
      return made;
    }));
  return {
    store(key) {
      const prefix = `${++stores}-${key.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64)}`;
      const started = new Set<number>();
      const path = async (run: number) => join(await folderPath(), `${prefix}-${run}.txt`);
      return {
        async write(run, lines) {
          if (lines.length === 0) return;
          const text = `${lines.join('\n')}\n`;
          const file = await path(run);
          // The first write of a run (in this store) starts its file afresh.
          if (started.has(run)) await appendFile(file, text);
          else {
            started.add(run);
            written.files++;
            await writeFile(file, text);
          }
          written.bytes += Buffer.byteLength(text);
        },
        read: (run) =>
          (async function* () {
            if (!started.has(run)) return;
            yield* readLines(await path(run));
          })(),
        async drop() {
          const files = [...started];
          started.clear();
          await Promise.all(files.map(async (run) => rm(await path(run), { force: true })));
        },
      };
    },
    written,
    get directory() {
      return directory;
    },
    async dispose() {
      const made = directory;
      folder = undefined;
      directory = undefined;
      if (!made) return;
      process.off('exit', onExit);
      await rm(made, { recursive: true, force: true });
    },
  };
}

/** The lines of a file (each ended by `\n`), a chunk of whole lines at a time. */
async function* readLines(file: string): AsyncGenerator<string[]> {
  const decoder = new TextDecoder();
  let tail = '';
  for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK })) {
    const text = tail + decoder.decode(chunk as Uint8Array, { stream: true });
    const end = text.lastIndexOf('\n');
    if (end < 0) {
      tail = text;
      continue;
    }
    tail = text.slice(end + 1);
    yield text.slice(0, end).split('\n');
  }
  const rest = tail + decoder.decode();
  if (rest.length > 0) yield [rest];
}

/**
 * A sort budget in bytes from `--sort-budget` or `EXPORT_SORT_BUDGET`: a whole number of bytes, or
 * one with a `KiB`, `MiB` or `GiB` suffix. Undefined: no value given. Throws naming `field`.
 */
export function parseSortBudget(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const match = /^\s*(\d+)\s*(KiB|MiB|GiB)?\s*$/i.exec(value);
  const unit = { kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }[(match?.[2] ?? '').toLowerCase() as 'kib'] ?? 1;
  const bytes = match ? Number(match[1]) * unit : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new RangeError(
      `${field}: expected a positive number of bytes (e.g. 67108864 or 64MiB), got "${value}"`,
    );
  }
  return bytes;
}
