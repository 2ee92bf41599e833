/** Runs `edge-export` as its own process: the Node bin, or the same `main` under Deno (test/support/deno-cli.ts). */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const DENO = join(ROOT, 'node_modules/.bin/deno');

export type Runtime = 'node' | 'deno';

/** Starts `edge-export <args>` on a runtime, from the repository root, with `env` over this process's. */
export function startCli(runtime: Runtime, args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  const [command, entry] =
    runtime === 'node'
      ? [process.execPath, [join(ROOT, 'bin/edge-export.js')]]
      : [DENO, ['run', '-A', '--no-check', join(ROOT, 'test/support/deno-cli.ts')]];
  return spawn(command, [...entry, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `edge-export <args>` on a runtime to its end: exit code, stdout and stderr. */
export async function cliProcess(
  runtime: Runtime,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const child = startCli(runtime, args, env);
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const [code] = await once(child, 'exit');
  return { code: code as number, out, err };
}
