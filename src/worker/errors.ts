/**
 * One error mapper for the API: every failure becomes `{error: {code, message, issues?}}` with a 4xx or
 * 5xx status. Never a stack trace, never a secret: no issue quotes a submitted string longer than
 * MAX_ECHO characters (withoutEcho), issues on secret fields quote nothing they received, and
 * unexpected errors are reported as "internal error" only.
 */
import { ConfigError, type ConfigIssue, ExportError } from '../core/errors.ts';
import { withoutEcho } from '../core/validate.ts';

export type ApiErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'BAD_REQUEST'
  | 'WEBHOOK_REFUSED'
  | 'REPLAYED'
  | 'ROWS_INVALID'
  | 'PAYLOAD_TOO_LARGE';

/** An HTTP-level refusal with a stable code. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 422,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** A resource the caller's organization does not have (whether or not another one does). */
export function notFound(what: string, id: string): ApiError {
  return new ApiError(404, 'NOT_FOUND', `${what} "${id}" was not found`);
}

/** A request body over its route's limit: 413, naming the limit (the body is not read further). */
export function payloadTooLarge(limit: number): ApiError {
  return new ApiError(
    413,
    'PAYLOAD_TOO_LARGE',
    `The request body is larger than this route accepts (${formatBytes(limit)}); send less (several batches) or a smaller document`,
    { limitBytes: limit },
  );
}

/** `16 MiB`, `64 KiB`, `100 bytes`. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

export interface ErrorBody {
  error: { code: string; message: string; issues?: ConfigIssue[]; details?: Record<string, unknown> };
}

/** Field names whose values are secrets: an issue about them never echoes what was received. */
const SECRET_FIELD = /(secret|password|token|sessionToken|privateKey|pgpPrivate)/i;

/** Maps any thrown value to a status and a body safe to show to the caller. */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof ApiError) {
    return {
      status: error.status,
      body: {
        error: { code: error.code, message: error.message, ...(error.details && { details: error.details }) },
      },
    };
  }
  if (error instanceof ConfigError) {
    const issues = error.issues.map(withoutEcho).map(redactIssue);
    const message = `Invalid request (${issues.length} problem${issues.length === 1 ? '' : 's'}): ${issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`;
    return { status: 400, body: { error: { code: error.code, message, issues } } };
  }
  if (error instanceof ExportError && error.code !== 'INTERNAL') {
    const status =
      error.code === 'CONFIG_INVALID' || error.code === 'KEY_UNSAFE' || error.code === 'NAME_TOO_LONG'
        ? 400
        : 422;
    return { status, body: { error: { code: error.code, message: error.message } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } };
}

/**
 * An issue at a secret field without the value: a quoted `received` is withheld, and so is its quoted
 * copy in the message. Only the quoted form is replaced, so a received length ("0") never mangles the
 * message's own digits.
 */
function redactIssue(issue: ConfigIssue): ConfigIssue {
  const received = issue.received;
  if (!SECRET_FIELD.test(issue.path) || received === undefined || !/^"[\s\S]*"$/.test(received)) return issue;
  const withheld = 'a value (withheld: the field is secret)';
  return { ...issue, message: issue.message.split(received).join(withheld), received: withheld };
}

