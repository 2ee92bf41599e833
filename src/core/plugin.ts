import type * as v from 'valibot';
import type { Stage } from './types.ts';

/** What the host gives plugins at build time: environment values and secrets, never the user's config. */
export interface PluginHost {
  /** Host environment (platform credentials for assumed roles, etc.). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * A plugin: a named bundle of stages with an options schema. `name` is `<kind>/<implementation>`
 * for built-ins (`format/csv`) and any unique name for third parties (`acme/avro`).
 */
export interface Plugin<S extends v.GenericSchema = v.GenericSchema> {
  readonly name: string;
  readonly description: string;
  /** Validates (and defaults) the options given in the plugin manifest. */
  readonly options: S;
  create(options: v.InferOutput<S>, host: PluginHost): Stage | readonly Stage[];
}

/**
 * Declares a plugin with typed options.
 *
 * @example
 * export default definePlugin({
 *   name: 'acme/tsv',
 *   description: 'Tab-separated values with a BOM',
 *   options: v.object({}),
 *   create: () => tsv(),
 * });
 */
export function definePlugin<S extends v.GenericSchema>(plugin: Plugin<S>): Plugin<S> {
  return Object.freeze(plugin);
}
