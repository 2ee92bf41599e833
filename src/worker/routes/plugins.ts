/**
 * /v1/plugins: the plugins this host has registered — the built-ins and the deployment's installed
 * plugins (edge-export.plugins.ts) — each with its options as JSON Schema and, for the kinds a
 * destination chooses, the field and value that pick it (`fileType: "avro"` → `format/avro`). The
 * console's destination form offers the formats listed here, not a list of its own.
 */
import { toJsonSchema } from '@valibot/to-json-schema';
import { Hono } from 'hono';
import * as v from 'valibot';
import type { Platform } from '../../core/platform.ts';
import type { Plugin } from '../../core/plugin.ts';
import type { Stage } from '../../core/types.ts';
import { hostRegistry } from '../../service/export-service.ts';
import { describe } from '../api-spec.ts';
import * as views from '../api-views.ts';
import type { AppDeps, AppEnv } from '../http.ts';

/** The destination field each choosable kind is picked by (see destinationManifest). */
const FIELDS: Record<string, 'fileType' | 'compression' | 'auth.method'> = {
  format: 'fileType',
  compression: 'compression',
  auth: 'auth.method',
};

/** Routes of /v1/plugins. */
export function pluginRoutes(deps: AppDeps) {
  return new Hono<AppEnv>().get(
    '/',
    describe({
      operationId: 'listPlugins',
      tag: 'Meta',
      summary: 'The plugins this host offers: formats, compressions, auth methods, … with their options',
      query: [{ name: 'kind', description: 'Only plugins of this kind (format, compression, auth, …)' }],
      success: { status: 200, description: 'The registered plugins, by name', schema: views.pluginList },
    }),
    (c) => {
      const kind = c.req.query('kind');
      const platform = deps.platform(c.env);
      const items = hostRegistry(platform)
        .list()
        .map((p) => presentPlugin(p, platform))
        .filter((p) => kind === undefined || p.kind === kind)
        .sort((a, b) => a.name.localeCompare(b.name));
      return c.json({ items });
    },
  );
}

const KINDS = new Set(['source', 'format', 'compression', 'encryption', 'naming', 'manifest', 'auth', 'sink']);

/**
 * The kind of stage a plugin makes: its name's prefix (`format/csv`), else the kind of the stage it
 * builds with its default options (a third party's `acme/tsv`), else `unknown`.
 */
function kindOf(plugin: Plugin, platform: Platform): string {
  const prefix = plugin.name.split('/')[0]!;
  if (KINDS.has(prefix)) return prefix;
  try {
    const stages = plugin.create(v.parse(plugin.options, undefined), platform);
    return (Array.isArray(stages) ? stages[0] : (stages as Stage))?.kind ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A plugin as the API lists it. */
export function presentPlugin(plugin: Plugin, platform: Platform): views.PluginView {
  const kind = kindOf(plugin, platform);
  const field = FIELDS[kind];
  // `format/avro` is picked by `fileType: "avro"`; any other name by itself (`acme/tsv`).
  const value = plugin.name.startsWith(`${kind}/`) ? plugin.name.slice(kind.length + 1) : plugin.name;
  return {
    name: plugin.name,
    kind,
    description: plugin.description,
    options: toJsonSchema(plugin.options, { target: 'draft-2020-12', typeMode: 'input', errorMode: 'ignore' }) as Record<string, unknown>,
    ...(field && { destination: { field, value } }),
    ...(plugin.secrets && plugin.secrets.length > 0 && { secrets: [...plugin.secrets] }),
  };
}
