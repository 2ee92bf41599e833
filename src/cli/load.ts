/**
 * Turns a JSON config file into an export definition for the export service (the same service the
 * Worker and the Node and Deno hosts call), and the config's source file into the run's subject.
 */
import { openAsBlob } from 'node:fs';
import { open, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ruleMembership } from '../core/data/audience.ts';
import { emptyNames, learnNames, mappingNames, ruleNames, unknownNames } from '../core/data/attributes.ts';
import { compileMapping } from '../core/data/mapping.ts';
import type { Profile } from '../core/data/model.ts';
import { profileFile } from '../core/data/profile-rows.ts';
import { memorySpill, type SpillStore } from '../core/data/spill.ts';
import type { ExportState } from '../core/data/store.ts';
import { ConfigError, type ConfigIssue } from '../core/errors.ts';
import { partitionColumnIssues } from '../core/partition.ts';
import type { Platform } from '../core/platform.ts';
import type { Plugin } from '../core/plugin.ts';
import { type PluginManifest, pluginManifest, type Registry } from '../core/registry.ts';
import { compileRule } from '../core/rules/index.ts';
import type { RowBatch, RunContext, Schema, SourceStage } from '../core/types.ts';
import { parse, quote } from '../core/validate.ts';
import { installedPlugins } from '../../edge-export.plugins.ts';
import { withPlugins } from '../core/platform.ts';
import { nodePlatform } from '../hosts/node/platform.ts';
import { destinationDefinition } from '../service/destination.ts';
import { type ExportDefinition, type ExportService, exportService, hostRegistry, type SubjectEntry } from '../service/export-service.ts';
import { type AudienceSubjectInput, audienceSeries, audienceSubject, datasetFolder, type ExportStates, type Subject } from '../service/subjects.ts';
import { cliConfig, type ExportConfig, isFullDestination } from './config.ts';
import { type ParallelOptions, parallelSource } from './parallel.ts';
import {
  isS3Path,
  learnColumn,
  type OpenedSnapshot,
  openSnapshot,
  projectionOf,
  rowColumnsOf,
  snapshotProfileStream,
  snapshotRowStream,
  sourceTarget,
} from './snapshot.ts';

const SOURCE_BY_EXTENSION: Record<string, string> = {
  '.ndjson': 'source/ndjson',
  '.jsonl': 'source/ndjson',
  '.json': 'source/ndjson',
  '.csv': 'source/csv',
  '.parquet': 'source/parquet',
};

/** A config file, read and resolved: its definition for the export service, and how to read its source. */
export interface LoadedConfig {
  readonly config: ExportConfig;
  readonly definition: ExportDefinition;
  readonly service: ExportService;
  readonly platform: Platform;
  readonly baseDir: string;
}

/** Reads and validates `configPath` (shape only), imports third-party modules, and builds its definition. */
export async function loadConfig(
  configPath: string,
  options: { env: Readonly<Record<string, string | undefined>> },
): Promise<LoadedConfig> {
  const config = parse(cliConfig, await readJson(configPath), 'export config');
  const baseDir = dirname(resolve(configPath));
  // The deployment's installed plugins (edge-export.plugins.ts), as on every host; `modules` add more.
  const platform = withPlugins(nodePlatform(options.env), installedPlugins);
  const { manifest, manifestDir } = await resolveManifest(config, baseDir);
  const registry = hostRegistry(platform);
  for (const module of manifest?.modules ?? []) {
    // A module that is also installed (the very same plugin object) is registered once.
    registry.register(...(await importPlugins(module, manifestDir)).filter((p) => registry.get(p.name) !== p));
  }
  return { config, definition: definitionOf(config, manifest), service: exportService(platform, registry), platform, baseDir };
}

/** The export definition of a config: a whole destination through the destination model, or its manifest. */
function definitionOf(config: ExportConfig, manifest: PluginManifest | undefined): ExportDefinition {
  const d = config.destination;
  if (isFullDestination(d)) {
    const { id, organization, sandbox, ...destination } = d;
    return destinationDefinition({
      destination,
      info: { id, name: destination.name, ...(organization && { organization }), ...(sandbox && { sandbox }) },
      fileName: config.output.fileName,
      split: config.output.split,
      ...(config.output.partitionBy && { partitionBy: config.output.partitionBy }),
      partitionByAt: 'output.partitionBy',
      ...(manifest && { extra: manifest }),
      at: 'destination',
      fileNameAt: 'output.fileName',
    });
  }
  return { destination: d, manifest: manifest!, output: config.output };
}

/**
 * Every problem of a config at once: its definition (plugins, keys, folder macros, naming) as the
 * export service sees it, plus what only a config has (the source file, the rule, the mapping).
 */
export async function checkConfig(loaded: LoadedConfig): Promise<ConfigIssue[]> {
  const { config } = loaded;
  const issues = await loaded.service.check(loaded.definition);
  const resolved = await resolveSource(loaded);
  issues.push(...resolved.issues);
  // The source plugin the export will read with, unless the manifest brings its own (a snapshot is read by its format).
  try {
    if (resolved.kind === 'file' && !loaded.definition.manifest.plugins.some((p) => p.use.startsWith('source/'))) {
      sourceFor(loaded.service.registry, config, loaded.platform);
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
  }
  if (config.audience?.rule !== undefined) {
    try {
      compileRule(config.audience.rule);
    } catch (error) {
      issues.push({ path: 'audience.rule', message: `audience.rule: ${(error as Error).message}` });
    }
  }
  if (resolved.issues.length === 0) issues.push(...(await attributeIssues(loaded)));
  const columns = resolved.snapshot && !(config.mapping || config.audience?.rule) && rowColumnsOf(config, resolved.snapshot);
  if (columns && 'message' in columns) issues.push(columns);
  const partitionBy = config.output.partitionBy;
  if (partitionBy && config.mapping) {
    const names = compileMapping(config.mapping).schema.map((c) => c.name);
    if (config.mode === 'incremental') names.push('segmentMembership_status');
    issues.push(...partitionColumnIssues(partitionBy.columns, [...new Set(names)], 'output.partitionBy'));
  }
  const modeProblem = modeIssue(config);
  if (modeProblem) issues.push(modeProblem);
  return issues;
}

/** A mode the config's subject cannot export in: the stateful modes compare an audience's members (incremental also a dataset's records). */
function modeIssue(config: ExportConfig): ConfigIssue | undefined {
  if (config.mapping || config.audience?.rule || config.mode === 'full') return undefined;
  if (config.mode === 'incremental') {
    return config.dataset === undefined ? { path: 'mode', message: 'mode: incremental needs an audience (rule or mapping) or a dataset' } : undefined;
  }
  return { path: 'mode', message: `mode: ${config.mode} needs an audience (rule or mapping): it compares member keys with the last run's state` };
}

/** Where the run's sorts spill (the CLI: files, see hosts/node/file-spill.ts) and their heap budget. */
export interface RunSpill {
  store(key: string): SpillStore;
  readonly budget: number;
}

interface SubjectOptions {
  source?: SourceStage | undefined;
  statePath?: string | undefined;
  states: ExportStates;
  /** Where sorts spill (memory, at the default budgets, without it). */
  spill?: RunSpill | undefined;
  /** Read a plain file export's source with worker threads where it can be (src/cli/parallel.ts). */
  parallel?: ParallelOptions | undefined;
}

/**
 * The run's subject: the audience (rule → mapping; in diff mode its added, changed and removed rows,
 * see `audienceSeries`), the dataset, or the source rows as they are.
 */
export async function subjectsOf(
  loaded: LoadedConfig,
  options: SubjectOptions,
): Promise<{ id: string; entries: SubjectEntry[]; snapshot?: OpenedSnapshot }> {
  const { config } = loaded;
  const modeProblem = config.mode === 'insert-only' || config.mode === 'diff' ? modeIssue(config) : undefined;
  if (modeProblem) throw new ConfigError([modeProblem], 'export config');
  const audience = await audienceInputOf(loaded, options);
  const { snapshot } = await readableSource(loaded);
  if (!audience) {
    const subject = await subjectOf(loaded, options);
    return { id: subject.id, entries: [subject], ...(snapshot && { snapshot }) };
  }
  const id = audience.audience.id;
  const store = options.spill?.store ?? (() => memorySpill());
  const spills = { changed: store(`${id}:changed`), removed: store(`${id}:removed`) };
  return {
    id: audience.audience.id,
    ...(snapshot && { snapshot }),
    entries: audienceSeries(config.mode, async () => audience, async () => ({ audience: audience.audience, mapping: audience.mapping, spills })),
  };
}

/** The run's one subject (in diff mode, its added rows): see `subjectsOf`. */
export async function subjectOf(
  loaded: LoadedConfig,
  options: SubjectOptions,
): Promise<Subject> {
  const audience = await audienceInputOf(loaded, options);
  if (audience) return audienceSubject(audience);
  const { config, platform } = loaded;
  const { snapshot } = await readableSource(loaded);
  let opened: { rows: ReadableStream<RowBatch>; schema?: Schema | undefined };
  if (snapshot) {
    const columns = rowColumnsOf(config, snapshot);
    if ('message' in columns) throw new ConfigError([columns], 'export config');
    opened = { rows: snapshotRowStream(snapshot, columns.map((c) => c.name)), schema: columns };
  } else {
    const source = options.source ?? sourceFor(loaded.service.registry, config, platform);
    const ctx: RunContext = { ...platform, runId: 'source', scheduledTime: scheduledTimeOf(config, platform) };
    const path = sourcePathOf(loaded);
    // Read by worker threads when the run can be (the same bytes, sooner).
    const parallel = options.parallel && (await parallelSource(loaded, { path, source, sourceUse: sourceNameOf(config), ...options.parallel }));
    opened = parallel || (await source.open(ctx, await openAsBlob(path)));
  }
  const schema = config.schema ?? opened.schema;
  return {
    id: config.dataset?.id ?? config.audience?.id ?? 'export',
    ...(config.audience && { audience: { id: config.audience.id, name: config.audience.name } }),
    ...(config.dataset && { dataset: config.dataset, folderPath: datasetFolder(loaded.definition.output.folderPath ?? '') }),
    ...(schema && { schema }),
    rows: opened.rows,
    skipped: () => ({}),
  };
}

/** The audience of a config with a rule or a mapping (profiles from the source file), else undefined. */
async function audienceInputOf(
  loaded: LoadedConfig,
  options: SubjectOptions,
): Promise<AudienceSubjectInput | undefined> {
  const { config, platform } = loaded;
  const { snapshot } = await readableSource(loaded);
  if (!(config.mapping || config.audience?.rule)) return undefined;
  if (config.mode !== 'full' && !options.statePath) {
    throw new ConfigError([{ path: 'mode', message: `${config.mode} exports need --state <file> to remember the last run` }], 'export config');
  }
  const now = scheduledTimeOf(config, platform);
  const audience = config.audience ?? { id: 'audience', name: 'audience' };
  const mapping = config.mapping ?? { fields: [{ source: 'id' }] };
  return {
    audience: { id: audience.id, name: audience.name },
    membership: ruleMembership(config.audience?.rule ? compileRule(config.audience.rule) : () => true),
    profiles: snapshot ? snapshotProfileStream(snapshot, projectionOf(config, snapshot)) : await profilesOfFile(loaded, options.source),
    mapping: compileMapping(mapping),
    mode: config.mode,
    now,
    states: options.states,
    ...(options.spill && { spill: options.spill.store(audience.id), sortBudget: options.spill.budget }),
  };
}

/** The profiles of a local source file, read by its source plugin (`source`, else the one its extension names). */
async function profilesOfFile(loaded: LoadedConfig, source: SourceStage | undefined): Promise<() => ReadableStream<readonly Profile[]>> {
  const { config, platform } = loaded;
  const stage = source ?? sourceFor(loaded.service.registry, config, platform);
  const blob = await openAsBlob(sourcePathOf(loaded));
  const ctx: RunContext = { ...platform, runId: 'source', scheduledTime: scheduledTimeOf(config, platform) };
  const { idColumn, updatedAtColumn } = config.source;
  return profileFile(stage, ctx, () => blob, { ...(idColumn && { idColumn }), ...(updatedAtColumn && { updatedAtColumn }) });
}

/** A config's source, resolved once: a local file, or a snapshot planned (with the problems found either way). */
type ResolvedSource = { readonly kind: 'file' | 'snapshot'; readonly issues: ConfigIssue[]; readonly snapshot?: OpenedSnapshot };

const resolvedSources = new WeakMap<LoadedConfig, Promise<ResolvedSource>>();

function resolveSource(loaded: LoadedConfig): Promise<ResolvedSource> {
  let resolved = resolvedSources.get(loaded);
  if (!resolved) {
    resolved = (async (): Promise<ResolvedSource> => {
      const { target, issues } = await sourceTarget(loaded.config, loaded.baseDir, loaded.service.registry);
      if (!target) return { kind: isS3Path(loaded.config.source.path) ? 'snapshot' : 'file', issues };
      if (target.kind === 'file') {
        const unreadable = await sourceFileIssue(loaded);
        return { kind: 'file', issues: unreadable ? [unreadable] : [] };
      }
      const { opened, issues: planIssues } = await openSnapshot(target, loaded.platform, loaded.service.registry);
      return { kind: 'snapshot', issues: planIssues, ...(opened && { snapshot: opened }) };
    })();
    resolvedSources.set(loaded, resolved);
  }
  return resolved;
}

/** The config's snapshot as planned, when its source is one (and could be planned). */
export async function snapshotOf(loaded: LoadedConfig): Promise<OpenedSnapshot | undefined> {
  return (await resolveSource(loaded)).snapshot;
}

/** The config's source, ready to read, or a ConfigError saying what to fix. */
async function readableSource(loaded: LoadedConfig): Promise<ResolvedSource> {
  const resolved = await resolveSource(loaded);
  if (resolved.issues.length > 0) throw new ConfigError(resolved.issues, 'export config');
  return resolved;
}

/** When the run is scheduled: the config's `scheduledTime`, else now. */
export function scheduledTimeOf(config: ExportConfig, platform: Platform): Date {
  return config.scheduledTime ? new Date(config.scheduledTime) : platform.now();
}

/**
 * Export state in a JSON file (`--state`): the last successful run's state per subject. A run's
 * new states are written (atomically: a temporary file renamed over it) only when it succeeded.
 */
export function fileStates(path: string | undefined): ExportStates {
  const staged = new Map<string, ExportState>();
  let committed: Promise<Record<string, ExportState>> | undefined;
  const read = () => (committed ??= readStates(path));
  return {
    // A state file of an earlier release held one audience's state: it answers for the config's audience.
    get: async (id) => {
      const states = await read();
      return states[id] ?? states[LEGACY];
    },
    stage: async (id, state) => {
      staged.set(id, state);
    },
    promote: async () => {
      if (!path || staged.size === 0) return;
      const next = { ...(await read()), ...Object.fromEntries(staged) };
      const temp = `${path}.${process.pid}.partial`;
      await writeFile(temp, JSON.stringify({ version: 2, states: next }));
      await rename(temp, path);
    },
    discard: async () => staged.clear(),
  };
}

async function readStates(path: string | undefined): Promise<Record<string, ExportState>> {
  if (!path) return {};
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return {};
  const parsed = JSON.parse(text) as { version?: number; states?: Record<string, ExportState>; kind?: string };
  if (parsed.version === 2 && parsed.states) return parsed.states;
  return parsed.kind === 'audience' ? { [LEGACY]: parsed as ExportState } : {};
}

/** The key an earlier release's single-audience state file is read under. */
const LEGACY = '*';

/** How many profiles of the source file `validate` and `export` read to learn which attributes exist. */
export const SAMPLED_PROFILES = 1000;

/**
 * Attributes and identity namespaces the rule or mapping names that no profile has: checked against
 * `source.attributes` when declared, else against the first SAMPLED_PROFILES profiles of the source.
 * Nothing is reported when the source cannot be read as profiles (the export reports why).
 */
export async function attributeIssues(loaded: LoadedConfig, source?: SourceStage): Promise<ConfigIssue[]> {
  const { config } = loaded;
  const uses = [
    ...(config.audience?.rule ? ruleNames(config.audience.rule, 'audience.rule') : []),
    ...(config.mapping ? mappingNames(config.mapping, 'mapping') : []),
  ];
  if (uses.length === 0) return [];
  const names = emptyNames();
  const declared = config.source.attributes;
  if (declared) {
    for (const name of declared) {
      if (name.startsWith('identities.')) names.identities.add(name.slice('identities.'.length));
      else names.attributes.add(name.replace(/^attributes\./, '').split('.')[0]!);
    }
    return unknownNames(uses, names, 'source.attributes does not list it');
  }
  try {
    const { snapshot } = await readableSource(loaded);
    if (snapshot && snapshot.plan.schema.length > 0) {
      // A Parquet footer, a CSV header or a declared schema says which columns every row has.
      for (const column of snapshot.plan.schema) learnColumn(names, column.name, snapshot.source);
      return unknownNames(uses, names, `no column of ${config.source.path} has it`);
    }
    // The sample's reads are not the export's: they are counted apart from the summary's.
    const sample = snapshot && { ...snapshot, stats: { bytesFetched: 0, requests: 0, rows: 0 } };
    const profiles = sample ? snapshotProfileStream(sample, projectionOf(config, sample)) : await profilesOfFile(loaded, source);
    const reader = profiles().getReader();
    let read = 0;
    while (read < SAMPLED_PROFILES) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const profile of value.slice(0, SAMPLED_PROFILES - read)) learnNames(names, profile);
      read += value.length;
    }
    await reader.cancel().catch(() => undefined);
    if (read === 0) return [];
    const first = read < SAMPLED_PROFILES ? `none of the ${read} profiles` : `none of the first ${SAMPLED_PROFILES} profiles`;
    return unknownNames(uses, names, `${first} of ${config.source.path} has it (list rarer ones in source.attributes)`);
  } catch {
    return [];
  }
}

/** The problem with the config's source file (missing, a folder, unreadable), naming the field and the path. */
async function sourceFileIssue(loaded: LoadedConfig): Promise<ConfigIssue | undefined> {
  const path = sourcePathOf(loaded);
  const problem = await open(path, 'r')
    .then(async (handle) => {
      const isFile = (await handle.stat()).isFile();
      await handle.close();
      return isFile ? undefined : 'is not a file';
    })
    .catch((error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' ? 'no such file' : error.code === 'EACCES' ? 'not readable (permission denied)' : `cannot be read (${error.code ?? error.message})`,
    );
  if (problem === undefined) return undefined;
  const from = isAbsolute(loaded.config.source.path) ? '' : " (a relative path starts at the config's folder)";
  return { path: 'source.path', message: `${problem}: ${path}${from}`, expected: 'a readable file', received: quote(loaded.config.source.path) };
}

function sourcePathOf(loaded: LoadedConfig): string {
  const { path } = loaded.config.source;
  return isAbsolute(path) ? path : resolve(loaded.baseDir, path);
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

async function resolveManifest(config: ExportConfig, baseDir: string): Promise<{ manifest?: PluginManifest; manifestDir: string }> {
  if (config.plugins === undefined) return { manifestDir: baseDir };
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
  // A module may export one plugin twice (as default and as `plugin`): each object counts once.
  const found = [...new Set([module.default, module.plugin, ...(Array.isArray(module.plugins) ? module.plugins : [])].flat().filter(isPlugin))];
  if (found.length === 0) {
    throw new ConfigError([{ path: 'modules', message: `${specifier} exports no plugin (expected default, plugin or plugins)` }], 'plugin manifest');
  }
  return found;
}

function isPlugin(value: unknown): value is Plugin {
  return typeof value === 'object' && value !== null && 'name' in value && 'create' in value && 'options' in value;
}

/** The source plugin a config's file is read with: `source.use`, else `source.format`, else the file's extension. */
export function sourceNameOf(config: ExportConfig): string | undefined {
  const format = config.source.format && `source/${config.source.format}`;
  return config.source.use ?? format ?? SOURCE_BY_EXTENSION[extname(config.source.path).toLowerCase()];
}

function sourceFor(registry: Registry, config: ExportConfig, platform: Platform): SourceStage {
  const name = sourceNameOf(config);
  if (!name) {
    throw new ConfigError(
      [{ path: 'source.use', message: `cannot tell the source format of "${config.source.path}"`, expected: Object.values(SOURCE_BY_EXTENSION).join(' | ') }],
      'export config',
    );
  }
  const source = registry.create({ use: name, options: config.source.options }, platform, 'source').find((s) => s.kind === 'source');
  if (!source) throw new ConfigError([{ path: 'source.use', message: `"${name}" is not a source plugin` }], 'export config');
  return source;
}
