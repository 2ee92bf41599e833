import type { LeftoverUpload } from './types.ts';

/**
 * Errors carry a stable code, where they came from (plugin and stage), and what the user must fix.
 * Messages never contain secrets: callers pass identifiers, never key material.
 */

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'PLUGIN_UNKNOWN'
  | 'SOURCE_INVALID'
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_CHANGED'
  | 'FORMAT_FAILED'
  | 'KEY_UNSAFE'
  | 'NAME_TOO_LONG'
  | 'PARTITION_LIMIT'
  | 'ENCRYPTION_FAILED'
  | 'SINK_FAILED'
  | 'S3_ACCESS_DENIED'
  | 'S3_NO_SUCH_BUCKET'
  | 'S3_SIGNATURE_MISMATCH'
  | 'S3_INVALID_ACCESS_KEY'
  | 'S3_WRONG_REGION'
  | 'S3_EXPIRED_TOKEN'
  | 'S3_ERROR'
  | 'AUTH_FAILED'
  | 'NETWORK'
  | 'ENDPOINT_REFUSED'
  | 'ABORTED'
  | 'INTERNAL';

export interface ExportErrorOptions {
  plugin?: string;
  stage?: string;
  cause?: unknown;
  /** Extra, non-secret facts for logs and API bodies (HTTP status, S3 request id, IAM action, …). */
  details?: Record<string, unknown>;
}

/** The one error type of the core. `code` is stable; `message` says what to fix. */
export class ExportError extends Error {
  override readonly name = 'ExportError';
  readonly code: ErrorCode;
  readonly plugin?: string;
  readonly stage?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ExportErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.plugin !== undefined) this.plugin = options.plugin;
    if (options.stage !== undefined) this.stage = options.stage;
    if (options.details !== undefined) this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.plugin && { plugin: this.plugin }),
      ...(this.stage && { stage: this.stage }),
      ...(this.details && { details: this.details }),
    };
  }
}

/** One problem in a configuration: where it is, what was expected, what was received. */
export interface ConfigIssue {
  /** Dotted path with indexes: `plugins[2].options.delimiter`. */
  readonly path: string;
  readonly message: string;
  readonly expected?: string;
  readonly received?: string;
}

/**
 * An issue whose message does not repeat its own field: schemas write messages such as
 * `name: must not be empty` so they read alone, but every caller shows `path: message` (and the
 * console `Label: message`), which would say the field twice. A leading label equal to the path, or
 * to its last part(s), is dropped.
 *
 * @example withoutLabel({ path: 'mapping.dedup.attributes', message: 'dedup.attributes: give one or two' }).message // 'give one or two'
 */
export function withoutLabel<I extends ConfigIssue>(issue: I): I {
  const label = /^([A-Za-z_$][\w$]*(?:(?:\.[A-Za-z_$][\w$]*)|\[\d+\])*): /.exec(issue.message)?.[1];
  if (label === undefined || !(issue.path === label || issue.path.endsWith(`.${label}`))) return issue;
  return { ...issue, message: issue.message.slice(label.length + 2) };
}

/** Every problem of a configuration at once, each with its path. */
export class ConfigError extends ExportError {
  readonly issues: readonly ConfigIssue[];

  constructor(given: readonly ConfigIssue[], subject = 'configuration') {
    const issues = given.map(withoutLabel);
    const lines = issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`);
    super('CONFIG_INVALID', `Invalid ${subject} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
    this.issues = issues;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), issues: this.issues };
  }
}

/** Wraps any thrown value so it carries the plugin and stage it came from. */
export function wrapError(error: unknown, code: ErrorCode, plugin: string, stage: string): ExportError {
  if (error instanceof ExportError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ExportError(code, `${plugin} (${stage}): ${message}`, { plugin, stage, cause: error });
}

/** The uploads a failed run had to leave behind, as carried in `details.leftoverUploads`. */
export function leftoversOf(error: unknown): LeftoverUpload[] {
  const found = error instanceof ExportError ? error.details?.leftoverUploads : undefined;
  return Array.isArray(found) ? (found as LeftoverUpload[]) : [];
}

/**
 * The same failure, now also naming uploads that could not be removed (`details.leftoverUploads`),
 * so whoever reports it (CLI, run record) can say what is left and how to remove it. An error that
 * is not an ExportError becomes a SINK_FAILED one with the same message.
 */
export function withLeftovers(error: unknown, leftovers: readonly LeftoverUpload[]): unknown {
  if (leftovers.length === 0) return error;
  const known = leftoversOf(error);
  const fresh = leftovers.filter((l) => !known.some((k) => k.uploadId === l.uploadId && k.key === l.key));
  if (fresh.length === 0) return error;
  const leftoverUploads = [...known, ...fresh];
  if (!(error instanceof ExportError)) {
    const message = error instanceof Error ? error.message : String(error);
    return new ExportError('SINK_FAILED', message, { stage: 'sink', cause: error, details: { leftoverUploads } });
  }
  return new ExportError(error.code, error.message, {
    ...(error.plugin !== undefined && { plugin: error.plugin }),
    ...(error.stage !== undefined && { stage: error.stage }),
    ...(error.cause !== undefined && { cause: error.cause }),
    details: { ...error.details, leftoverUploads },
  });
}
