/**
 * The plugin registry: plugins are registered by name, a plugin manifest picks some and gives their
 * options, and `build` validates all of it (every problem at once, each with its path) before it
 * creates the stages and freezes the pipeline.
 */
import * as v from 'valibot';
import { ConfigError, type ConfigIssue, ExportError } from './errors.ts';
import { mergeMacros } from './naming.ts';
import { type Platform, webPlatform } from './platform.ts';
import type { Plugin } from './plugin.ts';
import type {
  AuthStage,
  CompressionStage,
  EncryptionStage,
  FormatStage,
  ManifestStage,
  NamingContext,
  NamingStage,
  SinkStage,
  SourceStage,
  Stage,
  StageKind,
} from './types.ts';
import { didYouMean } from './suggest.ts';
import { joinPath, quote, toConfigIssues } from './validate.ts';

/** One entry of a plugin manifest: which plugin, with which options. */
export const pluginEntry = v.strictObject({
  use: v.pipe(v.string('expected the name of a registered plugin'), v.minLength(1)),
  options: v.optional(v.unknown()),
});

/** The plugin manifest: `{ "modules": [...], "plugins": [{ "use": "format/csv", "options": {...} }] }`. */
export const pluginManifest = v.strictObject({
  /** Third-party modules the host imports before building (paths or URLs, host-resolved). */
  modules: v.optional(v.array(v.string())),
  plugins: v.pipe(v.array(pluginEntry), v.minLength(1, 'list at least a format plugin')),
});
export type PluginManifest = v.InferOutput<typeof pluginManifest>;

/** A built pipeline: one stage (or list) per kind, frozen. */
export interface Pipeline {
  readonly source?: SourceStage;
  readonly format: FormatStage;
  readonly compression?: CompressionStage;
  readonly encryption?: EncryptionStage;
  readonly naming: readonly NamingStage[];
  readonly macros: Readonly<Record<string, (ctx: NamingContext) => string>>;
  readonly manifest?: ManifestStage;
  /** Tried in order; the first that returns credentials wins. */
  readonly auth: readonly AuthStage[];
  readonly sink?: SinkStage;
}

/** How many stages of each kind a pipeline takes. */
const CARDINALITY: Record<StageKind, 'one' | 'optional' | 'many'> = {
  source: 'optional',
  format: 'one',
  compression: 'optional',
  encryption: 'optional',
  naming: 'many',
  manifest: 'optional',
  auth: 'many',
  sink: 'optional',
};

export class Registry {
  readonly #plugins = new Map<string, Plugin>();

  constructor(plugins: readonly Plugin[] = []) {
    for (const plugin of plugins) this.register(plugin);
  }

  /** Adds plugins; a name registered twice is an error (no silent override). */
  register(...plugins: readonly Plugin[]): this {
    for (const plugin of plugins) {
      if (this.#plugins.has(plugin.name)) {
        throw new ExportError('CONFIG_INVALID', `Plugin "${plugin.name}" is already registered`, { plugin: plugin.name });
      }
      this.#plugins.set(plugin.name, plugin);
    }
    return this;
  }

  get(name: string): Plugin | undefined {
    return this.#plugins.get(name);
  }

  /** Registered plugins, for `--help` and the API's discovery endpoint. */
  list(): readonly Plugin[] {
    return [...this.#plugins.values()];
  }

  /**
   * Creates the stages of one plugin entry, or throws a ConfigError naming `path`.
   *
   * @example registry.create({ use: 'source/csv', options: { delimiter: ';' } }, host, 'source')
   */
  create(entry: { use: string; options?: unknown }, platform: Platform = webPlatform(), path = 'plugin'): readonly Stage[] {
    const result = this.#create(entry, platform, path);
    if ('issues' in result) throw new ConfigError(result.issues, 'plugin options');
    return result.stages;
  }

  #create(entry: { use: string; options?: unknown }, platform: Platform, path: string): { stages: Stage[] } | { issues: ConfigIssue[] } {
    const plugin = this.#plugins.get(entry.use);
    if (!plugin) {
      return {
        issues: [
          {
            path: `${path}.use`,
            message: `unknown plugin ${quote(entry.use)}${didYouMean(entry.use, this.list().map((p) => p.name))}`,
            expected: this.list().map((p) => p.name).join(' | '),
            received: quote(entry.use),
          },
        ],
      };
    }
    const options = v.safeParse(plugin.options, entry.options);
    if (!options.success) return { issues: withheld(toConfigIssues(options.issues, `${path}.options`, plugin.options), plugin, path) };
    try {
      const stages = plugin.create(options.output, platform);
      return { stages: (Array.isArray(stages) ? stages : [stages as Stage]).map((s) => Object.freeze(s)) };
    } catch (error) {
      if (error instanceof ConfigError) return { issues: withheld(error.issues.map((i) => ({ ...i, path: joinPath(`${path}.options`, i.path) })), plugin, path) };
      return { issues: [{ path, message: error instanceof Error ? error.message : String(error) }] };
    }
  }

  /**
   * Validates a plugin manifest and builds a frozen pipeline, or throws one ConfigError listing every
   * problem (unknown plugins, bad options, missing or duplicate stages) with its path.
   */
  build(manifest: unknown, platform: Platform = webPlatform()): Pipeline {
    const assembled = this.#assemble(manifest, platform);
    if ('issues' in assembled) throw new ConfigError(assembled.issues, 'plugin manifest');
    return assembled.pipeline;
  }

  /**
   * Everything `build` checks, plus each stage's own asynchronous checks (a PGP key parsed, a
   * codec this host lacks): every problem of the manifest at once, with its path. Nothing runs.
   *
   * @example const { pipeline, issues } = await registry.check(manifest, platform)
   */
  async check(manifest: unknown, platform: Platform = webPlatform()): Promise<{ pipeline?: Pipeline; issues: ConfigIssue[] }> {
    const assembled = this.#assemble(manifest, platform);
    if ('issues' in assembled) return { issues: assembled.issues };
    const issues: ConfigIssue[] = [];
    for (const { stage, path } of assembled.created) {
      const found = 'check' in stage && stage.check ? await stage.check(platform) : [];
      issues.push(...found.map((i) => ({ ...i, path: joinPath(`${path}.options`, i.path) })));
    }
    return issues.length > 0 ? { issues } : { pipeline: assembled.pipeline, issues };
  }

  #assemble(manifest: unknown, platform: Platform): { pipeline: Pipeline; created: { stage: Stage; path: string }[] } | { issues: ConfigIssue[] } {
    const parsed = v.safeParse(pluginManifest, manifest);
    if (!parsed.success) return { issues: toConfigIssues(parsed.issues, '', pluginManifest) };

    const issues: ConfigIssue[] = [];
    const created: { stage: Stage; path: string }[] = [];
    parsed.output.plugins.forEach((entry, index) => {
      const path = `plugins[${index}]`;
      const result = this.#create(entry, platform, path);
      if ('issues' in result) issues.push(...result.issues);
      else for (const stage of result.stages) created.push({ stage, path });
    });
    // A plugin that could not be built would make its kind look missing: report the cause alone.
    issues.push(...checkCardinality(created).filter((i) => issues.length === 0 || !i.message.startsWith('no ')));
    if (issues.length > 0) return { issues };

    const byKind = <K extends StageKind>(kind: K) =>
      created.filter((c) => c.stage.kind === kind).map((c) => c.stage as Extract<Stage, { kind: K }>);
    const format = byKind('format')[0]!;
    const compression = byKind('compression')[0];
    if (compression && format.compressible === false && compression.extension !== '') {
      const at = created.find((c) => c.stage === compression)!.path;
      return {
        issues: [{ path: at, message: `format "${format.name}" compresses internally; use its codec option instead of an outer compression` }],
      };
    }
    const naming = byKind('naming');
    let macros: Record<string, (ctx: NamingContext) => string>;
    try {
      macros = mergeMacros(naming);
    } catch (error) {
      return { issues: [{ path: 'plugins', message: (error as Error).message }] };
    }
    const pipeline: Pipeline = {
      format,
      naming: Object.freeze(naming),
      macros: Object.freeze(macros),
      auth: Object.freeze(byKind('auth')),
      ...optional('source', byKind('source')[0]),
      ...optional('compression', compression),
      ...optional('encryption', byKind('encryption')[0]),
      ...optional('manifest', byKind('manifest')[0]),
      ...optional('sink', byKind('sink')[0]),
    };
    return { pipeline: Object.freeze(pipeline), created };
  }
}

/**
 * Issues at a plugin's secret options keep their message but never the value received: a quoted
 * value becomes its length (descriptions such as "an empty string" stay).
 */
function withheld(issues: ConfigIssue[], plugin: Plugin, path: string): ConfigIssue[] {
  const secret = new Set((plugin.secrets ?? []).map((name) => `${path}.options.${name}`));
  return issues.map((issue) => {
    if (!secret.has(issue.path) || !issue.received?.startsWith('"')) return issue;
    const withheld = `a ${issue.received.length - 2}-character value (withheld: the field is secret)`;
    return { ...issue, message: issue.message.split(issue.received).join(withheld), received: withheld };
  });
}

function optional<K extends string, T>(key: K, value: T | undefined): { [P in K]?: T } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: T };
}

function checkCardinality(created: readonly { stage: Stage; path: string }[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const [kind, rule] of Object.entries(CARDINALITY) as [StageKind, string][]) {
    const found = created.filter((c) => c.stage.kind === kind);
    if (rule === 'one' && found.length === 0) {
      issues.push({ path: 'plugins', message: `no ${kind} plugin; exactly one is required`, expected: `a ${kind}/* plugin` });
    }
    if (rule !== 'many' && found.length > 1) {
      for (const extra of found.slice(1)) {
        issues.push({ path: extra.path, message: `a second ${kind} plugin; a pipeline takes at most one (first at ${found[0]!.path})` });
      }
    }
  }
  return issues;
}
