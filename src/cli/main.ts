/**
 * `edge-export` — one-off exports from the command line. Exit codes: 0 success, 1 the export failed,
 * 2 bad usage or invalid configuration.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError, ExportError, leftoversOf } from '../core/errors.ts';
import { DEFAULT_SORT_BUDGET, fileSpill, parseSortBudget } from '../hosts/node/file-spill.ts';
import { discard } from '../plugins/sink/discard/index.ts';
import { stopParallelWorkers } from '../hosts/parallel/engine.ts';
import type { ParallelOptions, ParallelReport } from './parallel.ts';
import { attributeIssues, checkConfig, fileStates, loadConfig, scheduledTimeOf, snapshotOf, subjectsOf } from './load.ts';
import { progressReporter } from './progress.ts';
import { snapshotSummary } from './snapshot.ts';
import { HELP } from './help.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** The version in package.json (`edge-export --version`). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: readonly string[], io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v' || command === 'version') {
    io.out.write(`edge-export ${version()}\n`);
    return EXIT.ok;
  }
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    io.out.write(HELP.main);
    return command ? EXIT.ok : EXIT.usage;
  }
  const help = HELP[command as keyof typeof HELP];
  if (!help || command === 'main') {
    io.err.write(`edge-export: unknown command "${command}"\n\n${HELP.main}`);
    return EXIT.usage;
  }
  let args: ReturnType<typeof parseCommandArgs>;
  try {
    args = parseCommandArgs(rest);
  } catch (error) {
    io.err.write(`edge-export ${command}: ${(error as Error).message}\n\n${help}`);
    return EXIT.usage;
  }
  if (args.help) {
    io.out.write(help);
    return EXIT.ok;
  }
  try {
    if (!args.config) throw new UsageError('--config <file> is required');
    const loaded = await loadConfig(args.config, { env: process.env });
    switch (command) {
      case 'validate': {
        const issues = await checkConfig(loaded);
        if (issues.length > 0) throw new ConfigError(issues, 'export config');
        const plugins = loaded.definition.manifest.plugins.map((p) => p.use);
        // A snapshot source: what its plan found (files, units, rows, bytes), nothing read beyond footers and headers.
        const snapshot = await snapshotOf(loaded);
        const source = snapshot && { source: { format: snapshot.plan.format, ...snapshotSummary(snapshot) } };
        io.out.write(`${JSON.stringify({ valid: true, plugins, ...source }, null, 2)}\n`);
        return EXIT.ok;
      }
      case 'export': {
        const prepared = await loaded.service.prepare(loaded.definition);
        const dryRun = args['dry-run'] ?? false;
        const states = fileStates(dryRun ? undefined : args.state);
        // Sorts (dedup, partitions, a diff's changed and removed rows) hold up to the budget in memory
        // and spill sorted runs to a temporary folder, removed however the export ends.
        const budget = sortBudgetOf(args['sort-budget'], process.env.EXPORT_SORT_BUDGET);
        const spill = fileSpill();
        const parallel: ParallelReport = { threads: 0, pieces: 0 };
        try {
          const subject = await subjectsOf(loaded, {
            source: prepared.pipeline.source,
            statePath: args.state,
            states,
            spill: { store: spill.store, budget },
            parallel: { ...parallelOf(args.threads, process.env), report: parallel },
          });
          // Exported anyway (an attribute may be rarer than the profiles read), but never silently.
          const warnings = (await attributeIssues(loaded, prepared.pipeline.source)).map((i) => `${i.path}: ${i.message}`);
          if (parallel.unavailable) warnings.push(`worker threads unavailable, reading on one thread: ${parallel.unavailable}`);
          for (const warning of warnings) io.err.write(`edge-export export: warning: ${warning}\n`);
          const progress = args.progress === false ? undefined : progressReporter({ out: io.err });
          const runId = loaded.config.runId ?? loaded.platform.uuid();
          // Ctrl-C (or SIGTERM) aborts the run: the file being written is removed, not left `.partial`.
          const interrupt = interruptOnSignals();
          const report = await prepared
            .run(subject.entries, {
              runId,
              scheduledTime: scheduledTimeOf(loaded.config, loaded.platform),
              signal: interrupt.signal,
              ...(dryRun && { sink: discard() }),
              commit: () => states.promote([subject.id]),
              spill: spill.store,
              sortBudget: budget,
              ...(progress && { onProgress: progress.onProgress }),
            })
            .catch((error: unknown) => {
              if (interrupt.received) throw new Interrupted(interrupt.received, leftoversOf(error));
              // A failed export still answers with a JSON summary: the error, and what it left behind.
              const described =
                error instanceof ExportError ? error : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
              const leftoverUploads = leftoversOf(error);
              const spilled = spill.written.files > 0 && { spilled: { ...spill.written } };
              io.out.write(`${JSON.stringify({ runId, failed: true, error: described, leftoverUploads, dryRun, ...spilled }, null, 2)}\n`);
              throw error;
            })
            .finally(() => {
              interrupt.dispose();
              progress?.done();
            });
          if (report.rows === 0 && warnings.length > 0) {
            io.err.write('edge-export export: warning: 0 rows exported; the warnings above may say why\n');
          }
          const spilled = spill.written.files > 0 && { spilled: { ...spill.written } };
          // A snapshot source: what reading it cost (bytes fetched versus the files' size).
          const source = subject.snapshot && { source: snapshotSummary(subject.snapshot) };
          const threads = parallel.threads > 0 && { parallel: { threads: parallel.threads, pieces: parallel.pieces } };
          io.out.write(`${JSON.stringify({ ...report, dryRun, ...spilled, ...source, ...threads, ...(warnings.length > 0 && { warnings }) }, null, 2)}\n`);
          return EXIT.ok;
        } finally {
          stopParallelWorkers();
          await spill.dispose();
        }
      }
      case 'test-connection': {
        const { ok, results, warnings } = await (await loaded.service.prepare(loaded.definition)).testConnection();
        io.out.write(`${JSON.stringify({ ok, results, warnings }, null, 2)}\n`);
        for (const warning of warnings) io.err.write(`edge-export test-connection: warning: ${warning}\n`);
        return ok ? EXIT.ok : EXIT.failed;
      }
      case 'policy': {
        // Policies need no credentials and call nothing: the platform identity may be absent here.
        const prepared = await loaded.service.prepare(loaded.definition, { stageChecks: false });
        const principal = args.principal ?? process.env.EDGE_EXPORT_PLATFORM_PRINCIPAL_ARN ?? process.env.PLATFORM_PRINCIPAL_ARN;
        io.out.write(`${JSON.stringify(prepared.policies(principal), null, 2)}\n`);
        return EXIT.ok;
      }
      default:
        throw new UsageError(`command "${command}" is not available`);
    }
  } catch (error) {
    return report(error, command, help, io.err);
  }
}

class UsageError extends Error {}

/** The sort budget: `--sort-budget`, else `EXPORT_SORT_BUDGET`, else DEFAULT_SORT_BUDGET. */
function sortBudgetOf(flag: string | undefined, env: string | undefined): number {
  try {
    return parseSortBudget(flag, '--sort-budget') ?? parseSortBudget(env, 'EXPORT_SORT_BUDGET') ?? DEFAULT_SORT_BUDGET;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * Worker threads that read a plain file export's source: `--threads`, else `EXPORT_THREADS`, else one
 * per core but one (this thread compresses and writes meanwhile); 0 reads on this thread.
 * `EXPORT_PIECE_BYTES` sets the bytes of input a worker is given at a time (src/cli/parallel.ts).
 */
function parallelOf(flag: string | undefined, env: NodeJS.ProcessEnv): ParallelOptions {
  const count = (text: string | undefined, name: string, min: number): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (text.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${name}: expected a whole number ≥ ${min}, got ${JSON.stringify(text)}`);
    return n;
  };
  const threads = count(flag, '--threads', 0) ?? count(env.EXPORT_THREADS, 'EXPORT_THREADS', 0) ?? availableParallelism() - 1;
  return { threads, pieceBytes: count(env.EXPORT_PIECE_BYTES, 'EXPORT_PIECE_BYTES', 1024) };
}

/** The export stopped on a signal; what it could not remove is still reported. */
class Interrupted extends Error {
  constructor(
    readonly signal: NodeJS.Signals,
    readonly leftovers: ReturnType<typeof leftoversOf>,
  ) {
    super(`interrupted (${signal}): the export stopped and removed the files it had written`);
  }
}

/**
 * An abort signal raised by the first SIGINT or SIGTERM while an export runs; a second one exits at
 * once. `dispose()` restores the default handling.
 */
function interruptOnSignals(): { signal: AbortSignal; received: NodeJS.Signals | undefined; dispose(): void } {
  const controller = new AbortController();
  const state = { received: undefined as NodeJS.Signals | undefined };
  const onSignal = (signal: NodeJS.Signals) => {
    if (state.received) process.exit(EXIT.interrupted);
    state.received = signal;
    controller.abort(new ExportError('ABORTED', `Export interrupted (${signal})`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    get received() {
      return state.received;
    },
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

function parseCommandArgs(args: readonly string[]) {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      'dry-run': { type: 'boolean' },
      state: { type: 'string' },
      'sort-budget': { type: 'string' },
      threads: { type: 'string' },
      principal: { type: 'string' },
      progress: { type: 'boolean' },
      'no-progress': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  return { ...values, progress: values['no-progress'] ? false : values.progress };
}

function report(error: unknown, command: string, help: string, err: NodeJS.WritableStream): number {
  if (error instanceof Interrupted) {
    err.write(`edge-export ${command}: ${error.message}\n`);
    for (const left of error.leftovers) err.write(`  a multipart upload was left open at ${left.location}: remove it with ${left.command}\n`);
    return EXIT.interrupted;
  }
  if (error instanceof UsageError) {
    err.write(`edge-export ${command}: ${error.message}\n\n${help}`);
    return EXIT.usage;
  }
  if (error instanceof ConfigError) {
    // One problem, one line: the field, then what to fix.
    const [only, ...more] = error.issues;
    err.write(`edge-export ${command}: ${only && more.length === 0 ? `${only.path || '(root)'}: ${only.message}` : error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof ExportError) {
    err.write(`edge-export ${command}: [${error.code}] ${error.message}\n`);
    for (const left of leftoversOf(error)) {
      err.write(
        `edge-export ${command}: a multipart upload was left open at ${left.location} (upload id ${left.uploadId}, ${left.bytes} bytes in ${left.parts} part${left.parts === 1 ? '' : 's'} stored): ${left.reason}\n` +
          `  remove it with: ${left.command}\n` +
          '  or let a lifecycle rule remove it: `edge-export policy` prints one\n',
      );
    }
    return error.code === 'CONFIG_INVALID' ? EXIT.usage : EXIT.failed;
  }
  err.write(`edge-export ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT.failed;
}
