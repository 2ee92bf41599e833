/**
 * Turns a JSON config file into a ready export: validated config, plugin manifest (inline or a file),
 * third-party modules imported, pipeline built, source opened.
 */
import { openAsBlob } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ExportConfig, exportConfig } from '../core/config.ts';
import { ConfigError, ExportError } from '../core/errors.ts';
import type { ExportJob } from '../core/pipeline.ts';
import type { Plugin } from '../core/plugin.ts';
import { type Pipeline, type PluginManifest, pluginManifest, Registry } from '../core/registry.ts';
import type { RunContext, Runtime, SinkStage, SourceStage } from '../core/types.ts';
import { ruleMembership } from '../core/data/audience.ts';
import { planAudienceExport } from '../core/data/export-plan.ts';
import { compileMapping } from '../core/data/mapping.ts';
import { profileFile } from '../core/data/profile-rows.ts';
import type { AudienceExportState } from '../core/data/store.ts';
import { compileRule } from '../core/rules/index.ts';
import { parse } from '../core/validate.ts';
import { nodePlugins } from '../hosts/node/plugins.ts';
import { nodeFetch } from '../hosts/node/fetch.ts';
import { nodeSha256 } from '../hosts/node/sha256.ts';
import { discard } from '../plugins/sink/discard/index.ts';

export interface LoadedJob {
  readonly pipeline: Pipeline;
  readonly job: ExportJob;
  readonly runtime: Runtime;
  readonly sink: SinkStage | undefined;
  readonly pluginNames: readonly string[];
  /** Rows the audience rule or mapping skipped, by reason (filled while the export runs). */
  skipped(): Record<string, number>;
  /** Saves incremental state; call only after the export succeeded. */
  commit(): Promise<void>;
}

const SOURCE_BY_EXTENSION: Record<string, string> = {
  '.ndjson': 'source/ndjson',
  '.jsonl': 'source/ndjson',
  '.json': 'source/ndjson',
  '.csv': 'source/csv',
  '.parquet': 'source/parquet',
};

export interface LoadedPipeline {
  readonly config: ExportConfig;
  readonly manifest: PluginManifest;
  readonly registry: Registry;
  readonly pipeline: Pipeline;
  readonly runtime: Runtime;
  readonly baseDir: string;
}

/** Reads and validates `configPath` and its plugin manifest, imports third-party modules, builds the pipeline. */
export async function loadPipeline(
  configPath: string,
  options: { env: Readonly<Record<string, string | undefined>> },
): Promise<LoadedPipeline> {
  const config = parse(exportConfig, await readJson(configPath), 'export config');
  const baseDir = dirname(resolve(configPath));
  const { manifest, manifestDir } = await resolveManifest(config, baseDir);
  const registry = new Registry(nodePlugins());
  for (const module of manifest.modules ?? []) registry.register(...(await importPlugins(module, manifestDir)));
  const pipeline = registry.build(manifest, { env: options.env });
  const runtime: Runtime = {
    now: () => new Date(),
    uuid: () => crypto.randomUUID(),
    fetch: nodeFetch,
    sha256: nodeSha256,
    ...(options.env.EDGE_EXPORT_LOG === 'debug' && {
      log: (level, message, fields) => process.stderr.write(`${JSON.stringify({ level, message, ...fields })}\n`),
    }),
  };
  return { config, manifest, registry, pipeline, runtime, baseDir };
}

/** Reads and validates `configPath`, builds the pipeline and opens the source. */
export async function loadJob(
  configPath: string,
  options: { env: Readonly<Record<string, string | undefined>>; dryRun?: boolean; statePath?: string },
): Promise<LoadedJob> {
  const { config, manifest, registry, pipeline, runtime, baseDir } = await loadPipeline(configPath, options);
  const host = { env: options.env };
  const source = pipeline.source ?? sourceFor(registry, config, host);
  const sourcePath = isAbsolute(config.source.path) ? config.source.path : resolve(baseDir, config.source.path);
  const blob = await openAsBlob(sourcePath).catch((error: NodeJS.ErrnoException) => {
    throw new ExportError('SOURCE_INVALID', `source.path: cannot read ${sourcePath} (${error.code ?? error.message})`);
  });
  const scheduledTime = config.scheduledTime ? new Date(config.scheduledTime) : undefined;
  const ctx = { ...runtime, runId: 'load', scheduledTime: scheduledTime ?? runtime.now() };
  const { rows, schema, skipped, commit } =
    config.mapping || config.audience?.rule
      ? await planFromProfiles(config, source, ctx, blob, options.statePath)
      : { ...(await source.open(ctx, blob)), skipped: () => ({}), commit: async () => {} };
  const job: ExportJob = {
    destination: config.destination,
    output: config.output,
    rows,
    ...((config.schema ?? schema) && { schema: config.schema ?? schema }),
    ...(config.audience && { audience: { id: config.audience.id, name: config.audience.name } }),
    ...(config.dataset && { dataset: config.dataset }),
    ...(config.runId && { runId: config.runId }),
    ...(scheduledTime && { scheduledTime }),
  };
  return {
    pipeline,
    job,
    runtime,
    sink: options.dryRun ? discard() : pipeline.sink,
    pluginNames: manifest.plugins.map((p) => p.use),
    skipped,
    commit: options.dryRun ? async () => {} : commit,
  };
}

/**
 * Profiles from the source file → audience rule → mapping → rows. With `mode: incremental` the
 * state of the last successful run is read from and written to `statePath`.
 */
async function planFromProfiles(config: ExportConfig, source: SourceStage, ctx: RunContext, blob: Blob, statePath?: string) {
  if (config.mode === 'incremental' && !statePath) {
    throw new ConfigError([{ path: 'mode', message: 'incremental exports need --state <file> to remember the last run' }], 'export config');
  }
  const predicate = config.audience?.rule ? compileRule(config.audience.rule) : () => true;
  const previous = statePath ? await readState(statePath) : undefined;
  const mapping = compileMapping(config.mapping ?? { fields: [{ source: 'id' }] });
  const plan = planAudienceExport({
    membership: ruleMembership(predicate),
    profiles: profileFile(source, ctx, () => blob),
    mapping,
    now: ctx.scheduledTime,
    mode: config.mode,
    previous,
    save: async (state) => {
      if (statePath) await writeFile(statePath, JSON.stringify(state));
    },
  });
  return {
    rows: plan.rows,
    schema: plan.schema,
    skipped: () => ({ ...plan.stats.skipped }),
    commit: async () => {
      await plan.commit();
    },
  };
}

async function readState(path: string): Promise<AudienceExportState | undefined> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return text === undefined ? undefined : (JSON.parse(text) as AudienceExportState);
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError([{ path: '', message: `cannot read ${path} (${(error as NodeJS.ErrnoException).code})` }], 'config file');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError([{ path: '', message: `${path} is not valid JSON: ${(error as Error).message}` }], 'config file');
  }
}

async function resolveManifest(config: ExportConfig, baseDir: string): Promise<{ manifest: PluginManifest; manifestDir: string }> {
  if (typeof config.plugins !== 'string') return { manifest: config.plugins, manifestDir: baseDir };
  const path = resolve(baseDir, config.plugins);
  return { manifest: parse(pluginManifest, await readJson(path), `plugin manifest ${path}`), manifestDir: dirname(path) };
}

/** Imports a third-party module and returns the plugins it exports (`default`, `plugin` or `plugins`). */
async function importPlugins(specifier: string, baseDir: string): Promise<Plugin[]> {
  const url = specifier.startsWith('.') || isAbsolute(specifier) ? pathToFileURL(resolve(baseDir, specifier)).href : specifier;
  let module: Record<string, unknown>;
  try {
    module = await import(url);
  } catch (error) {
    throw new ConfigError([{ path: 'modules', message: `cannot import ${specifier}: ${(error as Error).message}` }], 'plugin manifest');
  }
  const found = [module.default, module.plugin, ...(Array.isArray(module.plugins) ? module.plugins : [])].flat().filter(isPlugin);
  if (found.length === 0) {
    throw new ConfigError([{ path: 'modules', message: `${specifier} exports no plugin (expected default, plugin or plugins)` }], 'plugin manifest');
  }
  return found;
}

function isPlugin(value: unknown): value is Plugin {
  return typeof value === 'object' && value !== null && 'name' in value && 'create' in value && 'options' in value;
}

function sourceFor(registry: Registry, config: ExportConfig, host: { env: Record<string, string | undefined> }): SourceStage {
  const name = config.source.use ?? SOURCE_BY_EXTENSION[extname(config.source.path).toLowerCase()];
  if (!name) {
    throw new ConfigError(
      [{ path: 'source.use', message: `cannot tell the source format of "${config.source.path}"`, expected: Object.values(SOURCE_BY_EXTENSION).join(' | ') }],
      'export config',
    );
  }
  const source = registry.create({ use: name, options: config.source.options }, host, 'source').find((s) => s.kind === 'source');
  if (!source) throw new ConfigError([{ path: 'source.use', message: `"${name}" is not a source plugin` }], 'export config');
  return source;
}
