/**
 * `npm run dev`: the Worker under `wrangler dev` in local mode (no Cloudflare account): local D1,
 * local queue, state under `.wrangler/`. First, when `.dev.vars` is missing, it is written from
 * `.dev.vars.example` with a fresh SECRETS_KEY and ADMIN_TOKEN (never printed); then the D1
 * migrations are applied to the local database (`wrangler d1 migrations apply DB --local`).
 *
 * Environment: PORT (default 8787). Arguments after `--` go to `wrangler dev`
 * (e.g. `npm run dev -- --test-scheduled`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const WRANGLER = createRequire(import.meta.url).resolve('wrangler/bin/wrangler.js');
const env = { ...process.env, WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? 'false' };

/** Values `npm run dev` generates into a new `.dev.vars`. */
export function freshSecrets(): Record<string, string> {
  return {
    SECRETS_KEY: randomBytes(32).toString('base64'),
    ADMIN_TOKEN: randomBytes(24).toString('base64url'),
  };
}

/** The example file with each generated variable's value replaced; every other line kept. */
export function fillDevVars(example: string, values: Record<string, string>): string {
  return example.replace(/^([A-Z_][A-Z0-9_]*)=.*$/gm, (line, name: string) =>
    name in values ? `${name}=${values[name]}` : line,
  );
}

/** Writes `.dev.vars` when missing; says where, never what. */
async function ensureDevVars(): Promise<void> {
  const file = join(ROOT, '.dev.vars');
  if (existsSync(file)) return;
  const example = await readFile(join(ROOT, '.dev.vars.example'), 'utf8');
  await writeFile(file, fillDevVars(example, freshSecrets()), { mode: 0o600 });
  process.stdout.write(
    `Wrote ${relative(process.cwd(), file) || file} (git-ignored) with a fresh SECRETS_KEY and ADMIN_TOKEN.\n` +
      '  The admin token creates organizations: ADMIN_TOKEN=$(sed -n "s/^ADMIN_TOKEN=//p" .dev.vars)\n',
  );
}

/** Runs wrangler with `args`, inheriting the terminal; resolves with its exit code. */
function wrangler(args: string[], started?: (child: ChildProcess) => void): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], { cwd: ROOT, env, stdio: 'inherit' });
    started?.(child);
    child.once('error', fail);
    child.once('exit', (code, signal) => done(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1)));
  });
}

async function main(): Promise<number> {
  await ensureDevVars();
  const migrated = await wrangler(['d1', 'migrations', 'apply', 'DB', '--local']);
  if (migrated !== 0) {
    process.stderr.write(`npm run dev: applying the D1 migrations failed (exit ${migrated}); see above.\n`);
    return migrated;
  }
  const port = process.env.PORT ?? '8787';
  const args = ['dev', '--local', '--ip', '127.0.0.1', '--port', port, ...process.argv.slice(2)];
  return wrangler(args, (child) => {
    // Ctrl-C reaches wrangler from the terminal too; wait for it to stop its workerd, then exit.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (child.exitCode === null) child.kill(signal);
      });
    }
  });
}

process.exitCode = await main();
