/**
 * Runs the core's runtime-agnostic unit tests under Deno: the same `*.test.ts` files vitest runs on
 * Node, with `vitest` mapped to a shim over `Deno.test` (vitest.deno.json). Prints which files are
 * excluded and why, then hands the rest to `deno test` and exits with its status.
 *
 *   node_modules/.bin/deno run -A test/hosts/deno/run-core-tests.ts
 */
import { selectCoreTests } from '../core-tests.ts';

interface DirEntry {
  name: string;
  isDirectory: boolean;
  isFile: boolean;
}
declare const Deno: {
  readDirSync(path: string): Iterable<DirEntry>;
  readTextFileSync(path: string): string;
  execPath(): string;
  exit(code: number): never;
  args: string[];
  Command: new (
    cmd: string,
    options: { args: string[]; stdout: 'inherit'; stderr: 'inherit' },
  ) => { output(): Promise<{ code: number }> };
};

function list(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...list(path));
    else if (entry.isFile) out.push(path);
  }
  return out;
}

function read(path: string): string | undefined {
  for (const candidate of [path, `${path}.ts`]) {
    try {
      return Deno.readTextFileSync(candidate);
    } catch {
      // not this candidate
    }
  }
  return undefined;
}

const fs = { list, read };
const core = selectCoreTests(fs);
// The hosts' own runtime-neutral tests (queue, ticker) and the Deno-only ones (node:sqlite as D1).
const hosts = selectCoreTests(fs, ['test/hosts']);
const denoOnly = list('test/hosts/deno').filter((path) => path.endsWith('.deno-test.ts'));
console.log(`Deno: ${core.run.length} test files of src/core and src/plugins`);
for (const { path, reason } of core.excluded) console.log(`  excluded ${path}: ${reason}`);
console.log(`Deno: host tests ${[...hosts.run, ...denoOnly].join(', ')}`);
const files = [...core.run, ...hosts.run, ...denoOnly];
const child = new Deno.Command(Deno.execPath(), {
  args: ['test', '--no-check', '-A', '--config', 'vitest.deno.json', ...Deno.args, ...files],
  stdout: 'inherit',
  stderr: 'inherit',
});
Deno.exit((await child.output()).code);
