/**
 * How the Worker reaches a destination's bucket: its auth plugin (access key or assumed role, built by
 * the Registry like any other stage) signs an S3Client aimed at the destination. Used by the export
 * runner and by test connection; the generated IAM policies describe exactly what both need.
 */
import { credentialProvider } from '../core/auth.ts';
import { Registry } from '../core/registry.ts';
import { S3Client } from '../plugins/sink/s3/client.ts';
import { type PolicyDocument, permissionPolicy, trustPolicy } from '../plugins/sink/s3/policy.ts';
import { checkEndpoint } from '../core/security/ssrf.ts';
import type { AuthStage, RunContext } from '../core/types.ts';
import { builtinPlugins } from '../plugins/index.ts';
import type { StoredDestination } from './destination-secrets.ts';
import { endpointPolicy, type Env } from './env.ts';

/** The auth plugin entry a destination stands for. */
export function authEntry(d: StoredDestination): { use: string; options: Record<string, unknown> } {
  return d.auth.method === 'accessKey'
    ? {
        use: 'auth/accessKey',
        options: {
          accessKeyId: d.auth.accessKeyId,
          secretAccessKey: d.auth.secretAccessKey,
          ...(d.auth.sessionToken && { sessionToken: d.auth.sessionToken }),
        },
      }
    : { use: 'auth/assumedRole', options: { roleArn: d.auth.roleArn, externalId: d.externalId } };
}

/** The platform identity (a Worker secret) that assumed-role destinations trust. */
export function platformEnv(env: Env): Record<string, string | undefined> {
  return {
    EDGE_EXPORT_AWS_ACCESS_KEY_ID: env.EDGE_EXPORT_AWS_ACCESS_KEY_ID,
    EDGE_EXPORT_AWS_SECRET_ACCESS_KEY: env.EDGE_EXPORT_AWS_SECRET_ACCESS_KEY,
    EDGE_EXPORT_AWS_SESSION_TOKEN: env.EDGE_EXPORT_AWS_SESSION_TOKEN,
  };
}

/** A signed S3 client for a destination whose secrets are open (see openDestination). */
export function destinationClient(env: Env, d: StoredDestination, ctx: RunContext): S3Client {
  if (d.endpoint !== undefined) checkEndpoint(d.endpoint, 'endpoint', endpointPolicy(env));
  const auth = new Registry(builtinPlugins).create(
    authEntry(d),
    { env: platformEnv(env) },
    'auth',
  ) as AuthStage[];
  return new S3Client({
    target: {
      bucket: d.bucket,
      region: d.region,
      ...(d.endpoint !== undefined && { endpoint: d.endpoint, forcePathStyle: d.forcePathStyle ?? true }),
    },
    credentials: credentialProvider(auth, ctx),
    fetch: ctx.fetch,
  });
}

export interface DestinationPolicies {
  /** Grant this to the user or role the destination authenticates as. */
  readonly permissionPolicy: PolicyDocument;
  /** Assumed-role destinations: the role's trust policy, naming the platform and the external id. */
  readonly trustPolicy?: PolicyDocument;
  readonly externalId?: string;
  /** Why the trust policy is missing, when the platform principal is not configured. */
  readonly note?: string;
}

/** The least-privilege IAM documents of a destination (no secret involved). */
export function destinationPolicies(env: Env, d: StoredDestination): DestinationPolicies {
  const permission = permissionPolicy({ bucket: d.bucket, folderPath: d.folderPath });
  if (d.auth.method !== 'assumedRole' || d.externalId === undefined) return { permissionPolicy: permission };
  const principal = env.PLATFORM_PRINCIPAL_ARN;
  if (!principal)
    return {
      permissionPolicy: permission,
      externalId: d.externalId,
      note: 'Set the PLATFORM_PRINCIPAL_ARN variable (the ARN the Worker signs STS calls as) to get the trust policy',
    };
  return {
    permissionPolicy: permission,
    trustPolicy: trustPolicy({ platformPrincipalArn: principal, externalId: d.externalId }),
    externalId: d.externalId,
  };
}
