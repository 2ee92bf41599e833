/** Plugins only a Node host offers (they use node:fs / node:zlib). */
import type { Plugin } from '../core/plugin.ts';
import { plugin as localSink } from './local-sink.ts';

export const localPlugins: readonly Plugin[] = Object.freeze([localSink] as Plugin[]);
