/** Plugins only a Node host offers (node:fs, node:zlib); they replace built-ins of the same name. */
import type { Plugin } from '../core/plugin.ts';
import { builtinPlugins } from '../plugins/index.ts';
import { plugin as gzip } from './gzip.ts';
import { plugin as localSink } from './local-sink.ts';

export const localPlugins: readonly Plugin[] = Object.freeze([localSink, gzip] as Plugin[]);

/** Built-ins with the Node variants swapped in (zlib gzip is ~2.6× faster than CompressionStream). */
export function nodePlugins(): Plugin[] {
  const local = new Set(localPlugins.map((p) => p.name));
  return [...builtinPlugins.filter((p) => !local.has(p.name)), ...localPlugins];
}
