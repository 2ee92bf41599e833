/**
 * Combines auth stages into the one credential provider the S3 client signs with: the first stage
 * that applies wins (auth's combination rule), and `forceRefresh` is passed through to it.
 */
import { ExportError } from './errors.ts';
import type { AuthStage, CredentialProvider, RunContext } from './types.ts';

/**
 * A CredentialProvider over auth stages, bound to a run's context (its clock and fetch).
 *
 * @example new S3Client({ target, credentials: credentialProvider([assumedRole(opts, env)], ctx), fetch: ctx.fetch })
 */
export function credentialProvider(
  stages: AuthStage | readonly AuthStage[],
  ctx: RunContext,
): CredentialProvider {
  const list: readonly AuthStage[] = Array.isArray(stages) ? stages : [stages as AuthStage];
  return async (opts) => {
    for (const stage of list) {
      const creds = await stage.credentials(ctx, opts);
      if (creds) return creds;
    }
    const names = list.map((s) => s.name).join(', ') || 'none';
    throw new ExportError(
      'AUTH_FAILED',
      `No auth method applies to this destination (configured: ${names}).`,
      { stage: 'auth' },
    );
  };
}
