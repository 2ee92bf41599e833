/** Smoke test of src/hosts/deno.ts: the Deno host (the npm package's binary) as a child process, exporting to moto. */
import { hostSmoke } from './smoke.ts';

hostSmoke('deno', 'node_modules/.bin/deno', [
  'run',
  '--unstable-cron',
  '--allow-net',
  '--allow-read',
  '--allow-write',
  '--allow-env',
  'src/hosts/deno.ts',
]);
