/**
 * The third-party plugins this deployment installs beside the built-ins. A Worker cannot import code
 * at run time, so plugins are chosen here, when the code is built: every host entry imports this
 * list — the Worker (src/worker/index.ts), the Node and Deno hosts, the CLI — and registers it, so
 * the API, the console (GET /v1/plugins) and every export see the same formats.
 *
 * To add one: install its package (`npm install edge-export-avro`), import its plugin below, add it
 * to the list, deploy. A destination then names it: `fileType: "avro"` picks `format/avro`.
 */
import type { Plugin } from './src/core/plugin.ts';
// This repository carries the package in packages/; installed from npm: `from 'edge-export-avro'`.
import avro from './packages/edge-export-avro/src/index.ts';

export const installedPlugins: readonly Plugin[] = [avro];
