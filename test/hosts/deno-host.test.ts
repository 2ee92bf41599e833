/** The Deno host (src/hosts/deno.ts, the npm package's binary) as a child process: Deno.cron exports to moto. */
import { hostSmoke } from './smoke.ts';

hostSmoke('deno');
