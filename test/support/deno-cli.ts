/** The CLI under Deno (`deno run -A test/support/deno-cli.ts export …`): the same `main` the Node bin runs. */
import { main } from '../../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
