/**
 * `edge-export` — one-off exports from the command line. Exit codes: 0 success, 1 the export failed,
 * 2 bad usage or invalid configuration.
 */
import { parseArgs } from 'node:util';
import { ConfigError, ExportError } from '../core/errors.ts';
import { runExport } from '../core/pipeline.ts';
import { loadJob, loadPipeline } from './load.ts';
import { progressReporter } from './progress.ts';
import { policies, runTestConnection, s3Destination } from './s3.ts';
import { HELP } from './help.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: readonly string[], io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
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
    switch (command) {
      case 'export':
      case 'validate': {
        if (!args.config) throw new UsageError('--config <file> is required');
        const job = await loadJob(args.config, {
          env: process.env,
          dryRun: args['dry-run'] ?? false,
          ...(args.state && { statePath: args.state }),
        });
        if (command === 'validate') {
          io.out.write(`${JSON.stringify({ valid: true, plugins: job.pluginNames }, null, 2)}\n`);
          return EXIT.ok;
        }
        const progress = args.progress === false ? undefined : progressReporter({ out: io.err });
        const result = await runExport(job.pipeline, { ...job.job, ...(progress && { onProgress: progress.onProgress }) }, job.runtime, job.sink).finally(
          () => progress?.done(),
        );
        await job.commit();
        io.out.write(`${JSON.stringify({ ...result, dryRun: args['dry-run'] ?? false, skipped: job.skipped() }, null, 2)}\n`);
        return EXIT.ok;
      }
      case 'test-connection': {
        if (!args.config) throw new UsageError('--config <file> is required');
        const { manifest, pipeline, runtime, config } = await loadPipeline(args.config, { env: process.env });
        const results = await runTestConnection(s3Destination(manifest, config.output?.folderPath ?? ''), pipeline, runtime);
        const missing = results.filter((r) => !r.ok);
        io.out.write(`${JSON.stringify({ ok: missing.length === 0, results }, null, 2)}\n`);
        return missing.length === 0 ? EXIT.ok : EXIT.failed;
      }
      case 'policy': {
        if (!args.config) throw new UsageError('--config <file> is required');
        const { manifest, config } = await loadPipeline(args.config, { env: process.env });
        const principal = args.principal ?? process.env.EDGE_EXPORT_PLATFORM_PRINCIPAL_ARN;
        const documents = policies(s3Destination(manifest, config.output?.folderPath ?? ''), manifest, principal);
        io.out.write(`${JSON.stringify(documents, null, 2)}\n`);
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

function parseCommandArgs(args: readonly string[]) {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      'dry-run': { type: 'boolean' },
      state: { type: 'string' },
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
  if (error instanceof UsageError) {
    err.write(`edge-export ${command}: ${error.message}\n\n${help}`);
    return EXIT.usage;
  }
  if (error instanceof ConfigError) {
    err.write(`edge-export ${command}: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof ExportError) {
    err.write(`edge-export ${command}: [${error.code}] ${error.message}\n`);
    return error.code === 'CONFIG_INVALID' ? EXIT.usage : EXIT.failed;
  }
  err.write(`edge-export ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT.failed;
}
