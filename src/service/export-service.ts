/**
 * The export service: the one path from a definition (a destination's plugin manifest, the output
 * options and who is exporting) to published files. The CLI, the Worker and the Node and Deno hosts
 * all call it, with their own platform and their own data and state stores:
 *
 *   check(definition)            every problem, at configuration time (API create/update, `validate`)
 *   prepare(definition)          the validated, built export:
 *     .run(subjects, options)    subjects → files → staged states → manifest (last) → states promoted
 *     .testConnection()          each permission the export needs, probed by the sink
 *     .policies(principalArn?)   the least-privilege permission policy (+ role trust policy)
 *
 * A run publishes all of its files or none: when anything fails before its states are promoted,
 * every file it published is removed and its states stay as they were, so a retry exports the same.
 */
import { ConfigError, type ConfigIssue, ExportError } from '../core/errors.ts';
import { credentialProvider } from '../core/auth.ts';
import { fileNameOptions, folderMacros, renderFolder, runFolderTemplate } from '../core/naming.ts';
import { outputOptions, type OutputOptions, runExport, unpublish, writeManifest } from '../core/pipeline.ts';
import type { Platform } from '../core/platform.ts';
import { type Pipeline, type PluginManifest, Registry } from '../core/registry.ts';
import type {
  DestinationInfo,
  ExportedFile,
  LifecycleConfiguration,
  NamingContext,
  PolicyDocument,
  ProbeResult,
  RunContext,
  Runtime,
  SinkResult,
  SinkStage,
  UploadStateStore,
} from '../core/types.ts';
import type { SpillStore } from '../core/data/spill.ts';
import { unknownTokens } from '../core/name-template.ts';
import { didYouMean } from '../core/suggest.ts';
import { toConfigIssues } from '../core/validate.ts';
import { builtinPlugins } from '../plugins/index.ts';
import type { Subject } from './subjects.ts';
import * as v from 'valibot';

/** Everything an export needs besides its data: where to, how, and on whose behalf. */
export interface ExportDefinition {
  readonly destination: DestinationInfo;
  /** The full plugin manifest: format, compression, encryption, naming, manifest, auth, sink. */
  readonly manifest: PluginManifest;
  readonly output: OutputOptions;
  /** Puts a problem at the user's field (a destination's `bucket`, not `plugins[6].options.bucket`). */
  readonly locate?: (issue: ConfigIssue) => ConfigIssue;
}

/**
 * Where a run stopped when its invocation's budget ran low (JSON, kept by the host): the subjects
 * done, the one in progress with its own resume position and files so far, and every file published.
 */
export interface RunCheckpoint {
  readonly done: readonly SubjectReport[];
  readonly subject: number;
  readonly position?: unknown;
  readonly current?: { readonly files: number; readonly rows: number };
  readonly files: readonly ExportedFile[];
}

/** A subject, or how to open it (with its resume position when the run resumes there). */
export type SubjectEntry = Subject | ((resume?: unknown) => Promise<Subject>);

export interface RunOptions {
  readonly runId: string;
  readonly scheduledTime: Date;
  /** Where an earlier invocation of this run stopped: the run goes on from there. */
  readonly checkpoint?: RunCheckpoint | undefined;
  readonly signal?: AbortSignal;
  /** Durable in-flight multipart state (a Worker keeps it in the run's row). */
  readonly uploads?: UploadStateStore;
  /** A sink in place of the pipeline's (`--dry-run`: discard). */
  readonly sink?: SinkStage;
  /** Makes the states the subjects staged current; called after the manifest, last of all. */
  readonly commit?: () => Promise<void>;
  readonly onProgress?: (progress: { rows: number; bytes: number; files: number }) => void;
  /** Where a partitioned subject sorts its rows by partition (memory by default; D1 on a Worker, files in the CLI). */
  readonly spill?: (key: string) => SpillStore;
  /** Heap bytes of rows a partitioned subject sorts in memory before it spills a run. */
  readonly sortBudget?: number;
}

/** One subject's share of a run. */
export interface SubjectReport {
  readonly id: string;
  /** A diff export's share of the subject: `added`, `changed` or `removed`. */
  readonly kind?: string;
  readonly rows: number;
  readonly files: number;
  readonly skipped: Record<string, number>;
}

export interface RunReport {
  readonly runId: string;
  readonly scheduledTime: string;
  readonly files: readonly ExportedFile[];
  readonly manifest?: SinkResult;
  readonly rows: number;
  readonly bytes: number;
  readonly skipped: Record<string, number>;
  readonly subjects: readonly SubjectReport[];
  readonly durationMs: number;
  /**
   * Set when a subject paused (its `pause` said the invocation's budget ran low): the run is not
   * done, nothing is committed, and it goes on from this checkpoint in another invocation.
   */
  readonly continued?: RunCheckpoint;
}

export interface Policies {
  /** Grant this to the user or role the destination authenticates as. */
  readonly permissionPolicy: PolicyDocument;
  /** Assumed-role destinations: the role's trust policy, naming the platform and the external id. */
  readonly trustPolicy?: PolicyDocument;
  /** Why the trust policy is missing (no platform principal configured). */
  readonly note?: string;
  /** A backstop the bucket owner can add: aborts multipart uploads left open under the folder. */
  readonly lifecycleConfiguration?: LifecycleConfiguration;
  /** How to apply the lifecycle configuration. */
  readonly lifecycleNote?: string;
}

/** A connection test: `ok` when every required permission is; the others' shortfalls are warnings. */
export interface ConnectionTest {
  readonly ok: boolean;
  readonly results: ProbeResult[];
  /** What breaks because of each permission that is missing, unsupported or untested but not required. */
  readonly warnings: string[];
}

/** A validated, built export: run it, test its connection, print its policies. */
export interface PreparedExport {
  readonly pipeline: Pipeline;
  readonly definition: ExportDefinition;
  run(subjects: readonly SubjectEntry[], options: RunOptions): Promise<RunReport>;
  testConnection(): Promise<ConnectionTest>;
  policies(principalArn?: string): Policies;
  /** Takes back files a run published (a continued run that is given up: its checkpoint's files). */
  remove(files: readonly { readonly key: string; readonly replaced?: boolean }[]): Promise<void>;
}

export interface ExportService {
  readonly platform: Platform;
  readonly registry: Registry;
  /** Every problem of a definition, found without exporting anything; [] when it can run here. */
  check(definition: ExportDefinition): Promise<ConfigIssue[]>;
  /**
   * Checks, then builds; throws one ConfigError listing every problem. `stageChecks: false` skips
   * the stages' own checks (a key's expiry, the platform identity): for policies, which call nothing.
   */
  prepare(definition: ExportDefinition, options?: { stageChecks?: boolean }): Promise<PreparedExport>;
}

/** The plugins a host offers: the built-ins, then its own (a local-folder sink on Node and Deno). */
export function hostRegistry(platform: Platform): Registry {
  const own = new Set((platform.plugins ?? []).map((p) => p.name));
  return new Registry([...builtinPlugins.filter((p) => !own.has(p.name)), ...(platform.plugins ?? [])]);
}

/**
 * The export service of a host.
 *
 * @example const prepared = await exportService(platform).prepare(definition); await prepared.run(subjects, { runId, scheduledTime })
 */
export function exportService(platform: Platform, registry: Registry = hostRegistry(platform)): ExportService {
  const check = async (definition: ExportDefinition, stageChecks = true): Promise<{ pipeline?: Pipeline; issues: ConfigIssue[] }> => {
    const locate = definition.locate ?? ((issue: ConfigIssue) => issue);
    const built = stageChecks ? await registry.check(definition.manifest, platform) : buildOnly(registry, definition.manifest, platform);
    const issues = [...built.issues, ...outputIssues(definition, built.pipeline)];
    return {
      ...(built.pipeline && { pipeline: built.pipeline }),
      issues: issues.map(locate),
    };
  };
  return {
    platform,
    registry,
    check: async (definition) => (await check(definition)).issues,
    async prepare(definition, options = {}) {
      const { pipeline, issues } = await check(definition, options.stageChecks ?? true);
      if (issues.length > 0 || !pipeline) throw new ConfigError(issues, 'export configuration');
      return prepared(platform, definition, pipeline);
    },
  };
}

/** The manifest built without the stages' own checks. */
function buildOnly(registry: Registry, manifest: PluginManifest, platform: Platform): { pipeline?: Pipeline; issues: ConfigIssue[] } {
  try {
    return { pipeline: registry.build(manifest, platform), issues: [] };
  } catch (error) {
    if (error instanceof ConfigError) return { issues: [...error.issues] };
    throw error;
  }
}

/** Output options, folder macros and naming parts that the pipeline or the destination cannot fill. */
function outputIssues(definition: ExportDefinition, pipeline: Pipeline | undefined): ConfigIssue[] {
  const parsed = v.safeParse(outputOptions, definition.output);
  if (!parsed.success) return toConfigIssues(parsed.issues, 'output', outputOptions);
  const issues: ConfigIssue[] = [];
  const { folderPath, fileName } = parsed.output;
  if (pipeline) {
    const unknown = folderMacros(folderPath).filter((name) => !(name in pipeline.macros));
    for (const name of new Set(unknown)) {
      const known = Object.keys(pipeline.macros).map((m) => `%${m}%`);
      issues.push({
        path: 'output.folderPath',
        message: `unknown macro %${name}%${didYouMean(`%${name}%`, known) || ` (known: ${known.join(' ') || 'none'})`}`,
        expected: known.join(' ') || 'no macros (no naming plugin)',
        received: `%${name}%`,
      });
    }
    if (!pipeline.sink) issues.push({ path: 'plugins', message: 'no sink plugin: add sink/s3 (or sink/local)', expected: 'a sink/* plugin' });
    for (const found of fileName.template === undefined ? [] : unknownTokens(fileName.template, pipeline.macros)) {
      issues.push({ path: 'output.fileName.template', message: `template: ${found.message}`, expected: 'a known token', received: `{${found.token}}` });
    }
  }
  issues.push(...templateIssues(definition));
  const names = v.parse(fileNameOptions, fileName);
  if (names.organization && !definition.destination.organization) {
    issues.push({ path: 'output.fileName.organization', message: 'fileName.organization: the organization name is not known here; set destination.organization', expected: 'an organization name' });
  }
  if (names.sandbox && !definition.destination.sandbox) {
    issues.push({ path: 'output.fileName.sandbox', message: 'fileName.sandbox: no sandbox name is known here; set destination.sandbox', expected: 'a sandbox name' });
  }
  return issues;
}

/**
 * A template replaces the naming parts: one of them set besides it (other than its default) is a
 * mistake to report, not to ignore. Its `{organization}` and `{sandbox}` need names the destination knows.
 */
function templateIssues(definition: ExportDefinition): ConfigIssue[] {
  const given = definition.output.fileName ?? {};
  const template = given.template;
  if (template === undefined) return [];
  const issues: ConfigIssue[] = [];
  const defaults: Record<string, unknown> = { audienceName: false, dateTime: 'datetime', destinationId: false, organization: false, sandbox: false };
  const parts = Object.entries(given)
    .filter(([k, value]) => k !== 'template' && value !== undefined && value !== defaults[k])
    .map(([k]) => k);
  if (parts.length > 0) {
    issues.push({
      path: 'output.fileName.template',
      message: `template: replaces the naming parts; remove ${parts.join(', ')} (or put them in the template as tokens)`,
      expected: 'template alone',
    });
  }
  if (/\{organization\}/.test(template) && !definition.destination.organization) {
    issues.push({ path: 'output.fileName.template', message: 'template: {organization} is not known here; set destination.organization', expected: 'an organization name' });
  }
  if (/\{sandbox\}/.test(template) && !definition.destination.sandbox) {
    issues.push({ path: 'output.fileName.template', message: 'template: {sandbox} is not known here; set destination.sandbox', expected: 'a sandbox name' });
  }
  return issues;
}

function prepared(platform: Platform, definition: ExportDefinition, pipeline: Pipeline): PreparedExport {
  const output = v.parse(outputOptions, definition.output);
  const folderPath = output.folderPath;
  const context = (runId: string, scheduledTime: Date, extra: Partial<RunContext> = {}): RunContext => ({
    ...runtimeOf(platform),
    runId,
    scheduledTime,
    ...extra,
  });
  return {
    pipeline,
    definition,
    async run(subjects, options) {
      const started = Date.now();
      const sink = options.sink ?? pipeline.sink;
      if (!sink) throw new ExportError('CONFIG_INVALID', 'No sink: add a sink plugin to the plugin manifest');
      const runtime = { ...runtimeOf(platform), ...(options.uploads && { uploads: options.uploads }) };
      const from = options.checkpoint;
      // Files and finished subjects of the run's earlier invocations, when it resumes.
      const files: ExportedFile[] = [...(from?.files ?? [])];
      const reports: SubjectReport[] = [...(from?.done ?? [])];
      const progress = { rows: 0, bytes: 0, files: 0 };
      let manifest: SinkResult | undefined;
      // The partitions every subject of the run wrote: the bound holds for the whole run.
      const partitions = new Set<string>();
      const base = withCredentials(
        pipeline,
        context(options.runId, options.scheduledTime, {
          ...(options.signal && { signal: options.signal }),
          ...(options.uploads && { uploads: options.uploads }),
        }),
      );
      try {
        for (let index = from?.subject ?? 0; index < subjects.length; index++) {
          const resuming = index === from?.subject;
          const entry = subjects[index]!;
          const subject = typeof entry === 'function' ? await entry(resuming ? from?.position : undefined) : entry;
          const before = { ...progress };
          const earlier = resuming ? (from?.current ?? { files: 0, rows: 0 }) : { files: 0, rows: 0 };
          const result = await runExport(
            pipeline,
            {
              runId: options.runId,
              scheduledTime: options.scheduledTime,
              destination: definition.destination,
              output: {
                ...output,
                folderPath: subject.folderPath ?? folderPath,
                ...(subject.fileName && { fileName: v.parse(fileNameOptions, subject.fileName) }),
                manifest: false,
              },
              rows: subject.rows,
              // A resumed subject goes on with its next file; with files already out, no empty one.
              // A diff export writes a kind's files only when it has rows.
              firstFileIndex: earlier.files + 1,
              ...((earlier.files > 0 || subject.kind) && { skipEmpty: true }),
              ...(subject.kind && { kind: subject.kind }),
              ...(subject.schema && { schema: subject.schema }),
              ...(subject.audience && { audience: subject.audience }),
              ...(subject.dataset && { dataset: subject.dataset }),
              ...(options.signal && { signal: options.signal }),
              ...(output.partitionBy && {
                partitions,
                ...(options.spill && { spill: options.spill(`partition:${subject.id}`) }),
                ...(options.sortBudget && { sortBudget: options.sortBudget }),
              }),
              onProgress: (p) => {
                progress.rows = before.rows + p.rows;
                progress.bytes = before.bytes + p.bytes;
                progress.files = before.files + p.files;
                options.onProgress?.(progress);
              },
            },
            runtime,
            sink,
          );
          files.push(...result.files);
          const position = subject.paused?.();
          if (position !== undefined) {
            // The invocation's budget ran low: everything so far is published and resumable.
            const checkpoint: RunCheckpoint = {
              done: reports,
              subject: index,
              position,
              current: { files: earlier.files + result.files.length, rows: earlier.rows + result.rows },
              files,
            };
            return { ...summary(options, files, reports, started), continued: checkpoint };
          }
          await subject.stage?.();
          reports.push({
            id: subject.id,
            ...(subject.kind && { kind: subject.kind }),
            rows: earlier.rows + result.rows,
            files: earlier.files + result.files.length,
            skipped: subject.skipped(),
          });
        }
        if (output.manifest && pipeline.manifest) {
          const ctx: NamingContext = { ...base, destination: definition.destination };
          const folder = renderFolder(runFolderTemplate(folderPath), pipeline.macros, ctx);
          manifest = await writeManifest(pipeline, sink, ctx, folder, files);
        }
        await options.commit?.();
      } catch (error) {
        // What this invocation published goes; earlier invocations' files stay with the checkpoint,
        // which a retry goes on from (`remove` takes them back when the run is given up).
        const mine = files.slice(from?.files.length ?? 0);
        await unpublish(sink, base, manifest ? [...mine, manifest] : mine);
        throw error;
      }
      return { ...summary(options, files, reports, started), ...(manifest && { manifest }) };
    },
    async remove(files) {
      const sink = pipeline.sink;
      if (sink) await unpublish(sink, withCredentials(pipeline, context(`remove-${platform.uuid()}`, platform.now())), files);
    },
    async testConnection() {
      const sink = pipeline.sink;
      if (!sink?.probe) {
        throw new ExportError('CONFIG_INVALID', `The ${sink ? `sink/${sink.name}` : 'missing'} sink cannot test a connection (sink/s3 can)`);
      }
      const ctx = context(`probe-${platform.uuid()}`, platform.now());
      const results = await sink.probe(withCredentials(pipeline, ctx), folderPath);
      const blocking = results.filter((r) => !r.ok && r.required !== false);
      const warnings = results.filter((r) => !r.ok && r.required === false).map((r) => r.message ?? `${r.action} on ${r.resource}: ${r.status}`);
      return { ok: blocking.length === 0, results, warnings };
    },
    policies(principalArn) {
      const sink = pipeline.sink;
      if (!sink?.policy) throw new ExportError('CONFIG_INVALID', 'Only an S3 sink has an IAM policy');
      const permissionPolicy = sink.policy(folderPath);
      const backstop = sink.lifecycle?.(folderPath);
      const lifecycle = backstop && { lifecycleConfiguration: backstop.configuration, lifecycleNote: backstop.note };
      const trusting = pipeline.auth.find((a) => a.trustPolicy);
      if (!trusting) return { permissionPolicy, ...lifecycle };
      if (!principalArn) {
        return {
          permissionPolicy,
          ...lifecycle,
          note: 'The trust policy needs the platform principal ARN (the identity that calls sts:AssumeRole): set PLATFORM_PRINCIPAL_ARN, or pass --principal',
        };
      }
      return { permissionPolicy, ...lifecycle, trustPolicy: trusting.trustPolicy!(principalArn) };
    },
  };
}

/** The run-time half of a platform: what every stage context carries. */
function runtimeOf(platform: Platform): Runtime {
  return {
    now: platform.now,
    uuid: platform.uuid,
    fetch: platform.fetch,
    ...(platform.log && { log: platform.log }),
    ...(platform.sha256 && { sha256: platform.sha256 }),
  };
}

/** A run's totals from its files and subjects. */
function summary(options: RunOptions, files: readonly ExportedFile[], reports: readonly SubjectReport[], started: number): RunReport {
  const skipped: Record<string, number> = {};
  for (const report of reports) for (const [reason, n] of Object.entries(report.skipped)) skipped[reason] = (skipped[reason] ?? 0) + n;
  return {
    runId: options.runId,
    scheduledTime: options.scheduledTime.toISOString(),
    files,
    rows: files.reduce((n, f) => n + f.rows, 0),
    bytes: files.reduce((n, f) => n + f.size, 0),
    skipped,
    subjects: reports,
    durationMs: Date.now() - started,
  };
}

/** A context whose credentials come from the pipeline's auth stages (the first that applies). */
function withCredentials(pipeline: Pipeline, ctx: RunContext): RunContext {
  return pipeline.auth.length === 0 ? ctx : { ...ctx, credentials: credentialProvider(pipeline.auth, ctx) };
}
