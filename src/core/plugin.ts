import type * as v from 'valibot';
import type { Platform } from './platform.ts';
import type { Stage } from './types.ts';

/**
 * A plugin: a named bundle of stages with an options schema. `name` is `<kind>/<implementation>`
 * for built-ins (`format/csv`) and any unique name for third parties (`acme/avro`).
 */
export interface Plugin<S extends v.GenericSchema = v.GenericSchema> {
  readonly name: string;
  readonly description: string;
  /** Validates (and defaults) the options given in the plugin manifest. */
  readonly options: S;
  /**
   * Option paths that hold secrets (`secretAccessKey`): sealed at rest by hosts that store them,
   * masked in responses, and never echoed in a validation message.
   */
  readonly secrets?: readonly string[];
  /** Builds the stages with the host's platform (its fetch, clock, codecs, environment). */
  create(options: v.InferOutput<S>, platform: Platform): Stage | readonly Stage[];
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
