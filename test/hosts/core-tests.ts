/**
 * Which unit tests of src/core and src/plugins run under every runtime (Node, Deno, workerd): all of
 * them except those that reach a `node:*` module, directly or through a relative import, since those
 * check the core against Node-only oracles (node:crypto hashes, node:zlib, fixture files read with
 * node:fs). Runtime-neutral: the caller supplies the file system.
 */

export interface CoreTestFs {
  /** Every file under `dir` (recursive), as paths relative to the project root with `/` separators. */
  list(dir: string): string[];
  /** The text of a project-relative file, or undefined when it does not exist. */
  read(path: string): string | undefined;
}

export interface CoreTestSelection {
  /** Project-relative test files every runtime runs. */
  readonly run: string[];
  /** Test files left out, each with the `node:*` module that rules it out and through which file. */
  readonly excluded: { path: string; reason: string }[];
}

export const CORE_TEST_ROOTS = ['src/core', 'src/plugins', 'src/service'];

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Splits the core's unit tests into the runtime-agnostic ones and the excluded ones (with a reason). */
export function selectCoreTests(
  fs: CoreTestFs,
  roots: readonly string[] = CORE_TEST_ROOTS,
  suffix = '.test.ts',
): CoreTestSelection {
  const tests = roots
    .flatMap((dir) => fs.list(dir))
    .filter((path) => path.endsWith(suffix))
    .sort();
  const run: string[] = [];
  const excluded: { path: string; reason: string }[] = [];
  for (const path of tests) {
    const reason = nodeImport(fs, path, new Set());
    if (reason) excluded.push({ path, reason });
    else run.push(path);
  }
  return { run, excluded };
}

/** The first `node:*` import reachable from `path` through relative imports, described. */
function nodeImport(fs: CoreTestFs, path: string, seen: Set<string>): string | undefined {
  if (seen.has(path)) return undefined;
  seen.add(path);
  const text = fs.read(path);
  if (text === undefined) return undefined;
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2] ?? '';
    if (specifier.startsWith('node:')) return `imports ${specifier} (in ${path})`;
    if (specifier.startsWith('.')) {
      const found = nodeImport(fs, join(path, specifier), seen);
      if (found) return found;
    }
  }
  return undefined;
}

/** `a/b/c.ts` + `../d.ts` → `a/d.ts`. */
function join(from: string, specifier: string): string {
  const parts = from.split('/').slice(0, -1);
  for (const part of specifier.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.') parts.push(part);
  }
  return parts.join('/');
}
